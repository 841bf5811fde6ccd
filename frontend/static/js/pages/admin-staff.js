// Administrators: every admitted clinician, with suspension and reinstatement (STAFF-03, QA-02).
import { api } from "../api.js";
import { formatDate, joinList, label, t } from "../i18n.js";
import { params, startPage } from "../page.js";
import { $, badge, bindForm, field, h, load, notice, table } from "../ui.js";

await startPage({ role: "admin" });
const list = $("#staff");
const admitted = params().get("admitted");
if (admitted) notice($("#staff-notice"), t("admin.admitted", { name: admitted }));

function credentials(member) {
  return h("ul", { class: "list-plain small" }, member.credentials.map((c) => h("li", {},
    `${label("credential", c.kind)}: ${c.number}`,
    c.valid_until ? ` (${t("admin.valid_until", { date: formatDate(c.valid_until) })})` : "")));
}

function suspendForm(member) {
  const reason = h("input", { required: true, maxlength: 500, autocomplete: "off" });
  const form = h("form", { class: "suspend-form", "aria-label": t("admin.suspend_label", { name: member.real_name }) },
    field(`reason-${member.staff_id}`, t("admin.suspension_reason"), reason),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, t("admin.suspend_confirm"))));
  bindForm(form, async () => {
    await api(`/api/staff/${member.staff_id}/suspension`, { method: "POST", json: { reason: reason.value.trim() } });
    notice($("#staff-notice"), t("admin.suspended_done", { name: member.real_name }), "warn");
    await refresh();
  });
  return form;
}

function actions(member) {
  if (member.suspended) {
    const form = h("form", {}, h("button", { type: "submit", class: "secondary" }, t("admin.reinstate")));
    bindForm(form, async () => {
      await api(`/api/staff/${member.staff_id}/suspension`, { method: "DELETE" });
      notice($("#staff-notice"), t("admin.reinstated_done", { name: member.real_name }));
      await refresh();
    });
    return form;
  }
  return h("details", {}, h("summary", {}, t("admin.suspend")), suspendForm(member));
}

function render(staff) {
  if (!staff.length) return h("p", { class: "empty" }, t("admin.no_staff"));
  return table(null, [t("admin.name"), t("admin.kind"), t("admin.title"), t("admin.departments"), t("admin.credentials"),
    t("admin.status"), t("admin.actions")], staff.map((m) => [
    m.real_name, label("kind", m.kind), m.title, joinList(m.departments) || "—", credentials(m),
    m.suspended ? h("span", {}, badge(t("admin.suspended"), "bad"), h("br"), h("small", {}, m.suspension_reason || ""))
      : badge(t("admin.active"), "ok"),
    actions(m),
  ]));
}

async function refresh() {
  await load(list, () => api("/api/staff/"), render);
}

await refresh();
