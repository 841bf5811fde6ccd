// The hospital's readiness as the load balancer sees it (/ready): the database, the migrations, and the
// supervision-platform connector's lag when a platform is configured; then the connector's outbox (SUP-01, SUP-02).
import { api } from "../api.js";
import { formatDateTime, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, clear, h, load, showError, showLoading, table } from "../ui.js";

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

/** A lag as people read it: minutes (seconds only under one), "—" when there is none to measure. */
export function duration(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return t("connector.seconds", { s: Math.round(value) });
  return t("connector.minutes", { m: Math.round(value / 6) / 10 });
}

/** Red unless a platform is configured and the oldest event due waits less than the threshold (SUP-01, SUP-02). */
function healthNode(status) {
  const health = status.health;
  if (!health) return null;
  const alarms = health.alarms.map((alarm) => h("li", {}, t(`connector.alarm.${alarm}`, {
    lag: duration(status.lag_s), threshold: duration(health.lag_threshold_s), waiting: status.counts.pending || 0 })));
  return h("div", { class: `health ${health.ok ? "health-ok" : "health-bad"}`, role: "status", "data-testid": "connector-health",
    "data-health": health.ok ? "ok" : "alarm" },
    health.ok ? badge(t("connector.health_ok"), "ok") : badge(t("connector.health_bad"), "bad"),
    health.ok ? h("p", {}, t("connector.health_ok_detail", { threshold: duration(health.lag_threshold_s) }))
      : h("ul", {}, alarms));
}

function outbox(status) {
  return [
    healthNode(status),
    h("dl", { class: "facts" },
      h("dt", {}, t("connector.lag")), h("dd", { "data-testid": "connector-lag" }, duration(status.lag_s),
        h("small", { class: "hint" }, t("connector.lag_explained"))),
      h("dt", {}, t("connector.delivery_lag")), h("dd", { "data-testid": "connector-delivery-lag" },
        `p50 ${duration(status.delivery_lag_p50_s)} · p99 ${duration(status.delivery_lag_p99_s)}`,
        h("small", { class: "hint" }, t("connector.delivery_lag_explained"))),
      h("dt", {}, t("connector.waiting")), h("dd", {}, String(status.waiting)),
      h("dt", {}, t("connector.oldest")), h("dd", {}, status.oldest
        ? `${status.oldest.event_type} · ${formatDateTime(status.oldest.created_at)} · ${t("connector.attempts", { n: status.oldest.attempts })}`
        : t("connector.none_waiting"))),
    table(null, [t("connector.status"), t("connector.count")], Object.entries(status.counts).map(([name, count]) => [
      label("outbox", name), String(count)]), { numeric: [1] }),
    h("h3", {}, t("connector.dead")),
    status.dead.length
      ? table(null, ["#", t("connector.event"), t("connector.subject"), t("connector.error")],
        status.dead.map((d) => [String(d.seq), d.event_type, d.subject, h("span", { class: "finding-block" }, d.error || "")]))
      : h("p", { class: "empty" }, t("connector.no_dead")),
  ];
}

async function refreshAll() {
  await Promise.all([refresh(), load($("#outbox"), () => api("/api/admin/connector/"), outbox)]);
}

$("#refresh").addEventListener("click", refreshAll);
await refreshAll();
