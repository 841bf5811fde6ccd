// The patient's safety context as a form (RX-04): the patient states it at intake (PUT /api/me/safety-context)
// and the doctor confirms or corrects it in the visit (POST …/safety-context). Allergies are coded from the
// formulary's vocabulary; "no known allergies" is chosen explicitly, never a default.
import { label, t } from "./i18n.js";
import { field, h } from "./ui.js";

/** The fields, filled from `current` when it was recorded; `value()` is the body the API takes. */
export function safetyFields(vocabulary, current, { height = false } = {}) {
  const recorded = current && current.recorded;
  const status = h("select", { required: true, "data-testid": "allergy-status" },
    h("option", { value: "" }, t("safety.choose")),
    h("option", { value: "no_known_allergies" }, t("safety.no_known_allergies")),
    h("option", { value: "allergies" }, t("safety.has_allergies")));
  const allergies = h("select", { multiple: true, size: 5 }, vocabulary.map((code) => h("option", { value: code }, label("allergen", code))));
  const pregnancy = h("select", {}, ["not_applicable", "not_pregnant", "pregnant", "unknown"].map((p) => h("option", { value: p }, label("pregnancy", p))));
  const lactating = h("input", { type: "checkbox" });
  const impairment = () => h("select", {}, ["none", "mild", "moderate", "severe"].map((x) => h("option", { value: x }, label("impairment", x))));
  const renal = impairment();
  const hepatic = impairment();
  const weight = h("input", { type: "number", min: "0.3", max: "350", step: "0.1", inputmode: "decimal" });
  const heightCm = h("input", { type: "number", min: "20", max: "250", step: "0.1", inputmode: "decimal" });
  if (recorded) {
    status.value = current.allergy_status;
    for (const option of allergies.options) option.selected = current.allergies.includes(option.value);
    pregnancy.value = current.pregnancy;
    lactating.checked = current.lactating;
    renal.value = current.renal;
    hepatic.value = current.hepatic;
    weight.value = current.weight_kg || "";
    heightCm.value = current.height_cm || "";
  }
  const nodes = [
    h("div", { class: "grid-2" }, field("safety-status", t("safety.allergy_status"), status),
      field("safety-allergies", t("safety.allergies"), allergies)),
    h("div", { class: "grid-2" }, field("safety-pregnancy", t("safety.pregnancy"), pregnancy),
      h("label", { class: "check" }, lactating, h("span", {}, t("safety.lactating")))),
    h("div", { class: "grid-2" }, field("safety-renal", t("safety.renal"), renal), field("safety-hepatic", t("safety.hepatic"), hepatic)),
    h("div", { class: "grid-2" }, field("safety-weight", t("safety.weight_kg"), weight),
      height ? field("safety-height", t("safety.height_cm"), heightCm) : null),
  ];
  const value = () => ({ allergy_status: status.value,
    allergies: status.value === "allergies" ? [...allergies.selectedOptions].map((o) => o.value) : [],
    pregnancy: pregnancy.value, lactating: lactating.checked, renal: renal.value, hepatic: hepatic.value,
    weight_kg: weight.value ? weight.value : null,
    ...(height ? { height_cm: heightCm.value ? heightCm.value : null } : {}) });
  return { nodes, value };
}
