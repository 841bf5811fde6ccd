// A prior diagnosis as the patient sees it, with whether it can found a visit and why not (REV-01 … REV-03).
import { formatDate, isEnglish, label, t } from "./i18n.js";
import { badge, h } from "./ui.js";

export function eligibilityNode(eligibility) {
  if (!eligibility) return null;
  if (eligibility.eligible) {
    return h("p", { class: "notice", "data-testid": "eligibility" }, badge(t("diagnoses.eligible"), "ok"), " ",
      t("diagnoses.valid_until", { date: formatDate(eligibility.valid_until) }));
  }
  // The rule's own reason and what to do, in the page's language (issue 14); the rule ID small, linked to its page.
  const told = eligibility.told ? (isEnglish ? eligibility.told.en : eligibility.told.zh) : null;
  return h("div", { class: "error-box", role: "note", "data-testid": "eligibility", "data-rule-id": eligibility.rule_id },
    h("strong", {}, t("diagnoses.not_eligible"), told ? `${isEnglish ? ": " : "："}${told.title}` : ""),
    h("p", { class: "detail" }, told ? told.detail : eligibility.reason),
    h("small", { class: "rule-ref" }, h("a", { href: `/problems/${encodeURIComponent(eligibility.rule_id)}` },
      t("error.rule_ref", { id: eligibility.rule_id }))));
}

export function diagnosisSummary(d) {
  return [
    // The patient reads the name only: the code is for clinicians and the platform (plain words, issue 14).
    h("div", { class: "row" }, h("strong", {}, d.diagnosis_name)),
    h("small", { class: "muted" }, `${d.institution_name} · ${label("document", d.document_type)} · ${formatDate(d.diagnosed_on)}`),
  ];
}
