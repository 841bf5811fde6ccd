// Prior diagnoses (REV-01, REV-02): the patient's own, each with its eligibility; upload a new one, its name chosen
// from the diagnoses the hospital follows up (the code filled from it), or withdraw one no visit used.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { diagnosisSummary, eligibilityNode } from "../diagnoses.js";
import { $, bindButton, bindForm, clear, h, load, notice } from "../ui.js";

await startPage({ role: "patient" });
if (new URLSearchParams(location.search).get("welcome")) notice($("#diagnoses-notice"), t("journey.welcome_diagnosis"));
const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
$("#diagnosed_on").max = today;

function render(diagnoses) {
  if (!diagnoses.length) return h("p", { class: "empty" }, t("diagnoses.none"));
  return h("ul", { class: "list" }, diagnoses.map((d) => h("li", { "data-testid": "prior-diagnosis" },
    ...diagnosisSummary(d), eligibilityNode(d.eligibility),
    h("div", { class: "actions" },
      d.eligibility && d.eligibility.eligible
        ? h("a", { class: "button", href: `/patient/book?prior=${d.prior_diagnosis_id}` }, t("diagnoses.book")) : null,
      withdrawButton(d)))));
}

function withdrawButton(d) {
  const errors = h("div", { "aria-live": "assertive" });
  const button = h("button", { type: "button", class: "secondary", "data-testid": "withdraw-diagnosis" },
    t("journey.withdraw_diagnosis"));
  bindButton(button, errors, async () => {
    if (!window.confirm(t("journey.withdraw_confirm", { name: d.diagnosis_name }))) return;
    await api(`/api/prior-diagnoses/${d.prior_diagnosis_id}/withdrawal`, { method: "POST", json: {} });
    notice($("#diagnoses-notice"), t("journey.withdrawn", { name: d.diagnosis_name }));
    await refresh();
  });
  return [button, errors];
}

// The names the hospital follows up online; the code is filled from the one chosen (never typed, REV-02).
const catalogue = await api("/api/diagnosis-catalogue/", { auth: false }).catch(() => []);
const byName = new Map();
for (const entry of catalogue) for (const name of [entry.name, ...entry.synonyms]) if (!byName.has(name)) byName.set(name, entry);
clear($("#diagnosis-names"), [...byName.keys()].map((name) => h("option", { value: name })));
const nameInput = $("#diagnosis_name");
function fillCode() {
  const entry = byName.get(nameInput.value.trim());
  $("#icd10_code").value = entry ? entry.icd10_code : "";
  nameInput.setCustomValidity(entry || !nameInput.value.trim() ? "" : t("journey.diagnosis_choose_from_list"));
}
nameInput.addEventListener("input", fillCode);
nameInput.addEventListener("change", fillCode);
if (nameInput.value) fillCode(); // a name typed before the list arrived

async function refresh() {
  await load($("#diagnoses"), () => api("/api/prior-diagnoses/"), render);
}

bindForm($("#upload-form"), async (data, form) => {
  fillCode();
  if (!nameInput.reportValidity()) return;
  data.set("diagnosis_name", nameInput.value.trim());
  data.set("icd10_code", $("#icd10_code").value);
  const filed = await api("/api/prior-diagnoses/", { method: "POST", form: data });
  form.reset();
  notice($("#diagnoses-notice"), t("diagnoses.filed", { name: filed.diagnosis_name }));
  await refresh();
  $("#list-heading").scrollIntoView();
});

await refresh();
