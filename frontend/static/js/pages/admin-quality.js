// Complaints (answered, or escalated to a medical dispute) and adverse-event reports (QA-01, SUP-04).
import { api } from "../api.js";
import { formatDate, formatDateTime, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, bindForm, field, h, load, notice, table } from "../ui.js";

await startPage({ role: "admin" });

function answerForm(c) {
  if (c.status !== "open") return h("span", {}, c.response || "");
  const outcome = h("select", { required: true },
    h("option", { value: "resolved" }, t("complaint_status.resolved")), h("option", { value: "dispute" }, t("complaint_status.dispute")));
  const response = h("textarea", { required: true, maxlength: 4000 });
  const form = h("form", {}, field(`outcome-${c.complaint_id}`, t("quality.outcome"), outcome),
    field(`response-${c.complaint_id}`, t("quality.response"), response),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("quality.answer"))));
  bindForm(form, async () => {
    await api(`/api/complaints/${c.complaint_id}/answer`, { method: "POST", json: { outcome: outcome.value, response: response.value.trim() } });
    notice($("#quality-notice"), t("quality.answered"));
    await refreshComplaints();
  });
  return h("details", {}, h("summary", {}, t("quality.answer")), form);
}

async function refreshComplaints() {
  await load($("#complaints"), () => api("/api/complaints"), (complaints) => complaints.length
    ? table(null, [t("quality.filed"), t("feedback.category"), t("feedback.description"), t("admin.status"), t("quality.response")],
      complaints.map((c) => [formatDateTime(c.filed_at), label("complaint", c.category), c.description,
        badge(label("complaint_status", c.status), c.status === "open" ? "warn" : "ok"), answerForm(c)]))
    : h("p", { class: "empty" }, t("quality.no_complaints")));
}

await Promise.all([
  refreshComplaints(),
  load($("#adverse-events"), () => api("/api/adverse-events"), (events) => events.length
    ? table(null, [t("feedback.occurred_on"), t("feedback.kind"), t("feedback.severity"), t("feedback.drug"),
      t("feedback.adverse_description"), t("quality.reporter")], events.map((e) => [formatDate(e.occurred_on),
      label("adverse", e.kind), badge(label("severity", e.severity), e.severity === "mild" ? "" : "bad"), e.drug_code || "—",
      e.description, label("role", e.reporter_role)]))
    : h("p", { class: "empty" }, t("quality.no_adverse"))),
]);
