// Prior diagnoses (REV-01, REV-02): the patient's own, each with its eligibility; upload a new one.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { diagnosisSummary, eligibilityNode } from "../diagnoses.js";
import { $, bindForm, h, load, notice } from "../ui.js";

await startPage({ role: "patient" });
const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
$("#diagnosed_on").max = today;

function render(diagnoses) {
  if (!diagnoses.length) return h("p", { class: "empty" }, t("diagnoses.none"));
  return h("ul", { class: "list" }, diagnoses.map((d) => h("li", { "data-testid": "prior-diagnosis" },
    ...diagnosisSummary(d), eligibilityNode(d.eligibility),
    d.eligibility && d.eligibility.eligible
      ? h("div", { class: "actions" }, h("a", { class: "button", href: `/patient/book?prior=${d.prior_diagnosis_id}` }, t("diagnoses.book")))
      : null)));
}

async function refresh() {
  await load($("#diagnoses"), () => api("/api/prior-diagnoses/"), render);
}

bindForm($("#upload-form"), async (data, form) => {
  data.set("icd10_code", String(data.get("icd10_code")).trim().toUpperCase());
  const filed = await api("/api/prior-diagnoses/", { method: "POST", form: data });
  form.reset();
  notice($("#diagnoses-notice"), t("diagnoses.filed", { name: filed.diagnosis_name }));
  await refresh();
  $("#list-heading").scrollIntoView();
});

await refresh();
