// Complaints and adverse-event reports (QA-01), optionally about one visit (?visit=…) or drug (?drug=…).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { params, startPage } from "../page.js";
import { $, bindForm, clear, h, notice, showError } from "../ui.js";

await startPage({ role: "patient" });
const visit = params().get("visit");
const drug = params().get("drug");
if (visit) $("#complaint-visit").value = $("#adverse-visit").value = visit;
$("#occurred_on").max = $("#occurred_on").value = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

const adverse = $("#adverse-form");
const drugSelect = $("#drug_code");
function showDrugField() {
  const isDrug = adverse.elements.kind.value === "drug";
  $("#drug-field").hidden = !isDrug;
  drugSelect.required = isDrug;
}
adverse.addEventListener("change", showDrugField);
showDrugField();

try {
  const disclosure = await api("/api/institution/disclosure", { auth: false });
  clear(drugSelect, h("option", { value: "" }, t("feedback.choose_drug")),
    disclosure.prices.drugs.map((d) => h("option", { value: d.code, selected: d.code === drug }, `${d.name_zh}（${d.strength}）`)));
} catch (error) {
  showError($("#feedback-notice"), error);
}

const optional = (value) => (value ? value : null);

bindForm($("#complaint-form"), async (data, form) => {
  await api("/api/complaints", { method: "POST", json: {
    category: data.get("category"), description: data.get("description").trim(), visit_id: optional(data.get("visit_id")) } });
  form.reset();
  notice($("#feedback-notice"), t("feedback.complaint_filed"));
  $("#feedback-notice").scrollIntoView();
});

bindForm(adverse, async (data, form) => {
  const kind = data.get("kind");
  await api("/api/adverse-events", { method: "POST", json: {
    kind, severity: data.get("severity"), occurred_on: data.get("occurred_on"), description: data.get("description").trim(),
    visit_id: optional(data.get("visit_id")), drug_code: kind === "drug" ? optional(data.get("drug_code")) : null } });
  form.reset();
  showDrugField();
  notice($("#feedback-notice"), t("feedback.adverse_filed"));
  $("#feedback-notice").scrollIntoView();
});
