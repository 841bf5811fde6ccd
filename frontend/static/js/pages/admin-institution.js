// The licence (INS-01) and the departments approved on it (INS-02).
import { api } from "../api.js";
import { formatDate, joinList, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, bindForm, h, load, notice, table } from "../ui.js";

await startPage({ role: "admin" });
const licenceForm = $("#licence-form");

function showLicence(institution) {
  showService(institution);
  const l = institution.licence;
  if (!l) return h("p", { class: "error-box", role: "alert" }, t("disclosure.no_licence"));
  for (const [name, value] of Object.entries(l)) {
    const input = licenceForm.elements.namedItem(name);
    if (input) input.value = Array.isArray(value) ? value.join(",") : value;
  }
  return h("dl", { class: "facts" },
    h("dt", {}, t("disclosure.licence_number")), h("dd", {}, l.licence_number),
    h("dt", {}, t("disclosure.validity")), h("dd", {}, t("disclosure.valid_range", { from: formatDate(l.valid_from), until: formatDate(l.valid_until) })),
    h("dt", {}, t("disclosure.status")), h("dd", {}, institution.licence_in_force ? badge(t("disclosure.in_force"), "ok") : badge(t("disclosure.not_in_force"), "bad")),
    h("dt", {}, t("disclosure.licence_modes")), h("dd", {}, joinList(l.service_modes)));
}

// QA-02: the hospital stops online care when staff or facilities no longer meet requirements. A whole-service
// stop gives a coded reason and takes effect when a second administrator confirms it.
let pendingStop = null;

async function showService(institution) {
  const current = await api("/api/institution/service-stop");
  const select = $("#stop_reason_code");
  if (!select.options.length) {
    select.append(...Object.entries(current.reason_codes).map(([code, name]) => h("option", { value: code }, name)));
  }
  const stopped = institution.service_stopped;
  pendingStop = current.stop && current.stop.pending_confirmation ? current.stop : null;
  $("#stop-form").hidden = stopped || Boolean(pendingStop);
  $("#confirm-stop-form").hidden = !pendingStop;
  $("#resume-form").hidden = !stopped && !pendingStop;
  $("#service-state").replaceChildren(stopped
    ? h("p", { class: "notice warn" }, t("inst.stopped", { reason: institution.service_stop_reason || "" }))
    : pendingStop ? h("p", { class: "notice warn" }, t("inst.stop_pending", { reason: pendingStop.reason }))
      : h("p", { class: "notice" }, t("inst.serving")));
}

bindForm($("#stop-form"), async (data, form) => {
  await api("/api/institution/service-stop", { method: "POST", json: {
    reason_code: data.get("reason_code"), reason: data.get("reason").trim() } });
  form.reset();
  await refreshLicence();
});
bindForm($("#confirm-stop-form"), async () => {
  await api(`/api/institution/service-stop/${pendingStop.stop_id}/confirmation`, { method: "POST" });
  await refreshLicence();
});
bindForm($("#resume-form"), async () => {
  await api("/api/institution/service-stop", { method: "DELETE" });
  await refreshLicence();
});

async function refreshLicence() {
  await load($("#licence-current"), () => api("/api/institution/", { auth: false }), showLicence);
}

async function setDepartment(code, name, approved) {
  await api(`/api/institution/departments/${encodeURIComponent(code)}`, { method: "PUT", json: { name, approved } });
  notice($("#institution-notice"), t("inst.department_saved", { name }));
  await refreshDepartments();
}

function departmentRow(d) {
  const toggle = h("form", {}, h("button", { type: "submit", class: "secondary" }, d.approved ? t("inst.withdraw") : t("inst.approve")));
  bindForm(toggle, () => setDepartment(d.code, d.name, !d.approved));
  return [d.code, d.name, d.approved ? badge(t("inst.approved"), "ok") : badge(t("inst.not_approved"), "warn"), toggle];
}

async function refreshDepartments() {
  await load($("#department-list"), () => api("/api/institution/departments"), (departments) =>
    table(null, [t("inst.department_code"), t("inst.department_name"), t("admin.status"), t("admin.actions")], departments.map(departmentRow)));
}

bindForm(licenceForm, async (data) => {
  const body = Object.fromEntries(data.entries());
  body.service_modes = String(body.service_modes).split(/[,，、]/).map((m) => m.trim()).filter(Boolean);
  await api("/api/institution/licence", { method: "POST", json: body });
  notice($("#institution-notice"), t("inst.licence_recorded", { number: body.licence_number }));
  await refreshLicence();
});

bindForm($("#department-form"), async (data, form) => {
  await setDepartment(data.get("code").trim(), data.get("name").trim(), form.elements.approved.checked);
  form.reset();
});

await Promise.all([refreshLicence(), refreshDepartments()]);
