// A prior diagnosis as the patient sees it, with whether it can found a visit and why not (REV-01 … REV-03).
import { formatDate, label, t } from "./i18n.js";
import { badge, h } from "./ui.js";

export function eligibilityNode(eligibility) {
  if (!eligibility) return null;
  if (eligibility.eligible) {
    return h("p", { class: "notice", "data-testid": "eligibility" }, badge(t("diagnoses.eligible"), "ok"), " ",
      t("diagnoses.valid_until", { date: formatDate(eligibility.valid_until) }));
  }
  return h("div", { class: "error-box", role: "note", "data-testid": "eligibility", "data-rule-id": eligibility.rule_id },
    h("span", { class: "rule-id" }, eligibility.rule_id), h("strong", {}, t("diagnoses.not_eligible")),
    t(`rule.${eligibility.rule_id}`) !== `rule.${eligibility.rule_id}` ? h("p", {}, t(`rule.${eligibility.rule_id}`)) : null,
    h("p", { class: "detail" }, eligibility.reason));
}

export function diagnosisSummary(d) {
  return [
    // The patient reads the name only: the code is for clinicians and the platform (plain words, issue 14).
    h("div", { class: "row" }, h("strong", {}, d.diagnosis_name)),
    h("small", { class: "muted" }, `${d.institution_name} · ${label("document", d.document_type)} · ${formatDate(d.diagnosed_on)}`),
  ];
}
