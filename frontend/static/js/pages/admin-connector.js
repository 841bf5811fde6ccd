// The hospital's readiness as the load balancer sees it (/ready): the database, the migrations, and the
// supervision-platform connector's lag (SUP-01, SUP-02) when the connector is installed.
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, clear, h, showError, showLoading, table } from "../ui.js";

await startPage({ role: "admin" });

async function refresh() {
  const area = $("#ready");
  showLoading(area);
  try {
    // /ready answers 503 with the same body when something is not ready: read it either way.
    const response = await fetch("/ready", { headers: { Accept: "application/json" } });
    const body = await response.json();
    area.removeAttribute("aria-busy");
    clear(area,
      h("p", {}, body.status === "ready" ? badge(t("connector.ready"), "ok") : badge(t("connector.not_ready"), "bad")),
      table(null, [t("connector.check"), t("admin.status")], Object.entries(body.checks).map(([name, value]) => [
        t(`connector.check.${name}`) !== `connector.check.${name}` ? t(`connector.check.${name}`) : name,
        value === "ok" ? badge(t("connector.ok"), "ok") : h("span", { class: "finding-block" }, String(value)),
      ])),
      "supervision_connector" in body.checks
        ? null : h("p", { class: "notice warn" }, t("connector.not_installed")));
  } catch (error) {
    showError(area, { status: 0, detail: String(error.message || error) });
  }
}

$("#refresh").addEventListener("click", refresh);
await refresh();
