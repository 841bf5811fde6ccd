// The outpatient-format medical record (REC-01) as read-only facts.
import { formatDateTime, t } from "./i18n.js";
import { badge, h } from "./ui.js";

export const EMR_FIELDS = ["chief_complaint", "present_illness", "past_history", "allergy_history", "examination_findings",
  "diagnosis_icd10", "diagnosis_name", "treatment_advice"];

export function emrNode(record) {
  return h("div", { "data-testid": "emr" },
    h("p", {}, record.signed ? badge(t("emr.signed_at", { at: formatDateTime(record.signed_at) }), "ok") : badge(t("emr.draft"), "warn")),
    h("dl", { class: "facts" }, EMR_FIELDS.filter((name) => record[name]).flatMap((name) => [
      h("dt", {}, t(`emr.${name}`)), h("dd", { class: "pre" }, record[name])])));
}
