// Security incidents (SEC-02): what the scan detected or a person recorded, and the emergency procedure on each:
// assess, suspend the account involved, contain, report to the authorities by the deadline, close with a review.
import { api } from "../api.js";
import { formatDateTime, isEnglish, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, bindButton, bindForm, field, h, load, notice, table } from "../ui.js";

await startPage({ role: "admin" });
const list = $("#incidents");
const base = "/api/admin/security";
const authorities = await api(`${base}/authorities`);
const authorityName = (code) => {
  const a = authorities.find((x) => x.code === code);
  return a ? (isEnglish ? a.name_en : a.name_zh) : code;
};

const statusKind = { open: "bad", contained: "warn", reported: "warn", closed: "ok" };

function options(prefix, values, selected) {
  return values.map((v) => h("option", { value: v, selected: v === selected }, label(prefix, v)));
}

/** A small form posting `body()` to the incident's `path`, then refreshing the list and the incident. */
function actionForm(incident, path, fields, body, submitText, done, kind = "") {
  const form = h("form", { class: "incident-form" }, ...fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: kind || null }, submitText)));
  bindForm(form, async () => {
    await api(`${base}/incidents/${incident.incident_id}/${path}`, { method: "POST", json: body() });
    notice($("#security-notice"), done);
    await Promise.all([refresh(), show(incident.incident_id)]);
  });
  return form;
}

function textArea(required = true) {
  return h("textarea", { required, maxlength: 4000, rows: 2 });
}

function forms(incident) {
  const id = incident.incident_id;
  const out = [];
  const note = textArea();
  out.push(actionForm(incident, "notes", [field(`note-${id}`, t("security.note"), note)], () => ({ note: note.value.trim() }),
    t("security.add_note"), t("security.saved")));
  if (incident.status === "closed") return out;

  const leak = h("select", {}, options("leak", ["none", "suspected", "confirmed"], incident.leak));
  const personal = h("input", { type: "checkbox", checked: incident.personal_information });
  const why = textArea();
  out.push(actionForm(incident, "assessment", [field(`leak-${id}`, t("security.leak"), leak),
    field(`personal-${id}`, t("security.personal_information"), personal), field(`why-${id}`, t("security.assessment_note"), why)],
  () => ({ leak: leak.value, personal_information: personal.checked, note: why.value.trim() }), t("security.assess"), t("security.saved")));

  if (incident.account) {
    const suspended = incident.account.suspended;
    const reason = h("input", { maxlength: 500, autocomplete: "off" });
    out.push(actionForm(incident, "account-actions", [field(`account-note-${id}`, t("security.account_note"), reason)],
      () => ({ action: suspended ? "restore_account" : "suspend_account", note: reason.value.trim() }),
      t(suspended ? "security.restore_account" : "security.suspend_account", { name: incident.account.display_name }),
      t("security.saved"), suspended ? "secondary" : "danger"));
  }
  if (!incident.contained_at) {
    const how = textArea();
    out.push(actionForm(incident, "containment", [field(`contain-${id}`, t("security.containment_note"), how)],
      () => ({ note: how.value.trim() }), t("security.contain"), t("security.saved")));
  }
  const pending = incident.required_authorities.filter((a) => !a.reported);
  if (pending.length) {
    const boxes = pending.map((a) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "authority", value: a.code, checked: true }), " ", authorityName(a.code)));
    const when = h("input", { type: "datetime-local", required: true });
    const reference = h("input", { required: true, maxlength: 500, autocomplete: "off" });
    out.push(actionForm(incident, "reports", [h("fieldset", {}, h("legend", {}, t("security.report_to")), ...boxes),
      field(`reported-at-${id}`, t("security.reported_at"), when), field(`reference-${id}`, t("security.reference"), reference)],
    () => ({ authorities: boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      reported_at: new Date(when.value).toISOString(), reference: reference.value.trim() }),
    t("security.record_report"), t("security.saved")));
  }
  const review = textArea();
  out.push(actionForm(incident, "closure", [field(`review-${id}`, t("security.review"), review)],
    () => ({ review: review.value.trim() }), t("security.close"), t("security.closed_done")));
  return out;
}

function timeline(detail) {
  return h("ol", { class: "timeline small" }, detail.timeline.map((s) => h("li", {},
    h("strong", {}, label("incident_step", s.action)), ` · ${formatDateTime(s.at)} · ${s.actor}`,
    s.note ? h("div", {}, s.note) : null)));
}

/** The incident below the register: facts, timeline, and the next steps of the procedure. */
async function show(incidentId) {
  const section = $("#incident-section");
  section.hidden = false;
  await load($("#incident"), () => api(`${base}/incidents/${incidentId}`), (detail) => [
    h("p", {}, h("strong", {}, label("incident_kind", detail.kind)), " · ",
      badge(label("incident_status", detail.status), statusKind[detail.status] || ""), " ", detail.summary),
    detail.account ? h("p", { class: "small" }, t("security.account", { name: detail.account.display_name,
      role: label("role", detail.account.role) })) : null,
    detail.client_address ? h("p", { class: "small" }, t("security.address", { address: detail.client_address })) : null,
    detail.required_authorities.length ? h("p", { class: "small" }, t("security.authorities"), " ",
      detail.required_authorities.map((a) => badge(authorityName(a.code), a.reported ? "ok" : "bad"))) : null,
    detail.review ? h("p", {}, h("strong", {}, t("security.review")), " ", detail.review) : null,
    timeline(detail), ...forms(detail)]);
}

function handleButton(incident) {
  return h("button", { type: "button", class: "secondary", onclick: async () => {
    await show(incident.incident_id);
    $("#incident-heading").focus();
  } }, t("security.handle"));
}

function due(incident) {
  if (incident.overdue) return badge(t("security.overdue", { at: formatDateTime(incident.report_due_at) }), "bad");
  if (incident.reported_at) return badge(t("security.reported", { at: formatDateTime(incident.reported_at) }), "ok");
  return incident.report_due_at ? formatDateTime(incident.report_due_at) : "—";
}

function render(incidents) {
  if (!incidents.length) return h("p", { class: "empty" }, t("security.no_incidents"));
  return table(null, [t("security.detected"), t("security.kind"), t("security.severity"), t("admin.status"),
    t("security.leak"), t("security.affected"), t("security.report_due"), t("admin.actions")], incidents.map((i) => [
    formatDateTime(i.detected_at), [label("incident_kind", i.kind), h("br"), h("small", {}, i.summary)],
    badge(label("incident_severity", i.severity), i.severity === "low" ? "" : i.severity === "medium" ? "warn" : "bad"),
    badge(label("incident_status", i.status), statusKind[i.status] || ""), label("leak", i.leak), String(i.affected_subjects),
    due(i), handleButton(i)]));
}

async function refresh() {
  await load(list, () => api(`${base}/incidents`), render);
}

function newIncidentForm() {
  const kind = h("select", {}, options("incident_kind", ["data_leak", "bulk_access", "audit_tampering", "credential_stuffing", "other"], "data_leak"));
  const severity = h("select", {}, options("incident_severity", ["low", "medium", "high", "critical"], "high"));
  const leak = h("select", {}, options("leak", ["none", "suspected", "confirmed"], "suspected"));
  const summary = textArea();
  const affected = h("input", { type: "number", min: 0, value: 0 });
  const form = h("form", { id: "new-incident-form" }, field("new-kind", t("security.kind"), kind),
    field("new-severity", t("security.severity"), severity), field("new-leak", t("security.leak"), leak),
    field("new-summary", t("security.summary"), summary), field("new-affected", t("security.affected"), affected),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("security.open"))));
  bindForm(form, async () => {
    await api(`${base}/incidents`, { method: "POST", json: { kind: kind.value, severity: severity.value, leak: leak.value,
      summary: summary.value.trim(), affected_subjects: Number(affected.value || 0) } });
    form.reset();
    notice($("#security-notice"), t("security.opened"), "warn");
    await refresh();
  });
  return form;
}

$("#new-incident").append(newIncidentForm());
bindButton($("#scan"), $("#scan-error"), async () => {
  const report = await api(`${base}/scan`, { method: "POST" });
  notice($("#security-notice"), t("security.scanned", { entries: report.entries_checked, opened: report.opened.length,
    updated: report.updated.length }), report.opened.length || report.chain_breaks.length ? "warn" : "ok");
  await refresh();
});
await refresh();
