// The pharmacist's work (RX-06, RX-08): review with the rule findings and the doctor's signature, approve or
// reject with reasons (both decisions signed); then both signatures checked on the export; dispensing and delivery.
import { api } from "../api.js";
import { signedPost } from "../signing-device.js";
import { formatDateTime, pick, t } from "../i18n.js";
import { startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { addressText, isPickUp, prescriptionCard, safetyContextNode } from "../prescriptions.js";
import { $, bindForm, clear, field, h, load, notice, showError } from "../ui.js";

await startPage({ role: "pharmacist" });
showPracticeSession($("#practice"), "pharmacist");
// RX-06: a rejection names 处方点评 codes (不规范 / 用药不适宜 / 超常), from the hospital's reviewed table.
const REJECTION_REASONS = await api("/api/reviews/reasons");
// RX-06: a high-alert drug (高警示药品, flagged in the formulary) is double-checked item by item before approval.
const HIGH_ALERT = new Set((await api("/api/formulary", { auth: false })).filter((d) => d.high_alert).map((d) => d.code));
const DOUBLE_CHECKS = ["patient", "drug", "dose", "frequency", "route"];

function doubleCheckFields(rx) {
  const lines = (rx.document.items || []).filter((i) => HIGH_ALERT.has(i.drug_code));
  const groups = lines.map((line) => {
    const boxes = DOUBLE_CHECKS.map((check) => h("input", { type: "checkbox", value: check, "data-testid": "double-check" }));
    const node = h("fieldset", { class: "double-check" }, h("legend", {}, t("review.double_check", { drug: line.name_zh })),
      DOUBLE_CHECKS.map((check, k) => h("label", {}, boxes[k], " ", t(`review.check.${check}`))));
    return { code: line.drug_code, boxes, node };
  });
  return {
    nodes: groups.map((g) => g.node),
    values: () => groups.map((g) => ({ drug_code: g.code, checks: g.boxes.filter((b) => b.checked).map((b) => b.value) })),
  };
}

function signatureFacts(rx) {
  const doc = rx.document;
  return h("dl", { class: "facts small", "data-testid": "doctor-signature" },
    h("dt", {}, t("review.doctor")), h("dd", {}, `${doc.doctor.name}（${doc.doctor.title}）`),
    h("dt", {}, t("review.certificate")), h("dd", {}, h("code", {}, doc.doctor.certificate_serial)),
    h("dt", {}, t("review.face_verified")), h("dd", {}, formatDateTime(doc.face_verification.verified_at)),
    h("dt", {}, t("review.prior")), h("dd", {}, `${doc.prior_diagnosis.name}（${doc.prior_diagnosis.icd10}），${doc.prior_diagnosis.institution}`));
}

/** Both signatures, checked by the hospital on the export bundle exactly as a pharmacy or the regulator would. */
async function checkSignatures(rx, area) {
  try {
    const bundle = await api(`/api/prescriptions/${rx.prescription_id}/export`);
    const report = await api("/api/rx/verify", { method: "POST", json: bundle, auth: false });
    clear(area, h("div", { class: report.ok ? "notice" : "error-box", role: "status", "data-testid": "signature-report" },
      h("strong", {}, report.ok ? t("review.signatures_ok") : t("review.signatures_bad")),
      h("ul", {},
        h("li", {}, t("review.signed_by_doctor", { name: report.prescriber ? report.prescriber.name || "" : "—" })),
        h("li", {}, t("review.signed_by_pharmacist", { name: report.reviewer ? report.reviewer.name || "" : "—" })),
        report.problems.map((p) => h("li", {}, `${p.code}: ${p.message}`)))));
  } catch (error) {
    showError(area, error);
  }
}

const ACK_REASONS = ["indication_confirmed", "dose_confirmed_with_prescriber", "monitoring_arranged",
  "benefit_outweighs_risk", "patient_counselled", "label_or_guideline_supported", "quantity_justified"];

/** RX-06: approving needs each warning acknowledged with a coded reason; they are signed with the review. */
function acknowledgementFields(rx) {
  const warnings = (rx.findings || []).map((f, i) => [f, i]).filter(([f]) => f.severity === "warn");
  const selects = warnings.map(([f, i]) => {
    const select = h("select", { "data-finding": String(i), "data-testid": "ack-reason" },
      h("option", { value: "" }, t("review.ack_choose")),
      ACK_REASONS.map((code) => h("option", { value: code }, t(`review.ack.${code}`))));
    return { i, select, node: field(`ack-${rx.prescription_id}-${i}`, `${t("review.ack_label")} ${f.rule_id}：${f.message}`, select) };
  });
  return {
    nodes: selects.map((s) => s.node),
    values: () => selects.filter((s) => s.select.value).map((s) => ({ finding: s.i, reason: s.select.value })),
  };
}

function reasonCodesSelect() {
  return h("select", { multiple: true, size: 6, "data-testid": "reason-codes" },
    ["non_standard", "unsuitable", "excessive"].map((category) => h("optgroup", { label: t(`review.category.${category}`) },
      REJECTION_REASONS.filter((r) => r.category === category).map((r) =>
        h("option", { value: r.code }, pick({ zh: r.name_zh, en: r.name_en }))))));
}

function reviewForm(rx, card) {
  const reasons = h("textarea", { maxlength: 2000, rows: 3 });
  const codes = reasonCodesSelect();
  const acks = acknowledgementFields(rx);
  const checks = doubleCheckFields(rx);
  const form = h("form", { class: "review-form", "aria-label": t("review.form_label", { number: rx.prescription_number }) },
    acks.nodes, checks.nodes,
    field(`codes-${rx.prescription_id}`, t("review.reason_codes"), codes, t("review.reason_codes_hint")),
    field(`reasons-${rx.prescription_id}`, t("review.reasons"), reasons, t("review.reasons_hint")),
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "approve" }, t("review.approve")),
      h("button", { type: "submit", value: "reject", class: "danger" }, t("review.reject"))));
  bindForm(form, async (data, _form, submitter) => {
    const decision = submitter ? submitter.value : "approve";
    const lines = reasons.value.split("\n").map((r) => r.trim()).filter(Boolean);
    // RX-05/06: this browser's device key signs the decision, over the doctor's JWS itself.
    const reviewed = await signedPost(`/api/prescriptions/${rx.prescription_id}/review`,
      { decision, reasons: lines, version: rx.version,
        reason_codes: decision === "reject" ? [...codes.selectedOptions].map((o) => o.value) : [],
        acknowledgements: decision === "approve" ? acks.values() : [],
        double_checks: decision === "approve" ? checks.values() : [] });
    // The decided prescription replaces the one in the queue, with both signatures checked beneath it.
    const report = h("div", { "aria-live": "polite" });
    const decided = prescriptionCard(reviewed, "pharmacist");
    decided.append(h("p", { class: "notice", role: "status" },
      decision === "approve" ? t("review.approved", { number: rx.prescription_number }) : t("review.rejected", { number: rx.prescription_number })),
      report);
    card.replaceWith(decided);
    if (decision === "approve") await checkSignatures(reviewed, report);
    await refreshDispensing();
  });
  return form;
}

/** RX-06: one prescription at a time; claimed, it leaves the other pharmacists' queues until decided or lapsed. */
function claimNode(rx) {
  const status = h("span", { class: "small muted", "data-testid": "claim", "aria-live": "polite" },
    rx.claim && rx.claim.claimed_by_me ? t("review.claimed_until", { time: formatDateTime(rx.claim.claimed_until) }) : "");
  const button = h("button", { type: "button", class: "secondary" }, t("review.claim"));
  button.addEventListener("click", async () => {
    try {
      const claimed = await api(`/api/prescriptions/${rx.prescription_id}/claim`, { method: "POST" });
      status.textContent = t("review.claimed_until", { time: formatDateTime(claimed.claim.claimed_until) });
    } catch (error) {
      showError(status, error);
    }
  });
  return h("div", { class: "actions" }, button, status);
}

function reviewCard(rx) {
  const card = prescriptionCard(rx, "pharmacist");
  card.append(claimNode(rx), h("h4", {}, t("review.safety_context")), safetyContextNode(rx.safety_context),
    signatureFacts(rx), reviewForm(rx, card));
  return card;
}

function dispenseForm(rx) {
  // RX-08: a courier is chosen only for a delivery; a pick-up waits at the counter (the hospital's own hands).
  const pickUp = isPickUp(rx);
  const kind = h("select", { required: true }, h("option", { value: "third_party" }, t("courier.third_party")),
    h("option", { value: "own" }, t("courier.own")));
  const courier = h("input", { maxlength: 100, value: "顺丰速运" });
  const form = h("form", {}, pickUp ? null : h("div", { class: "grid-2" },
    field(`kind-${rx.prescription_id}`, t("review.courier_kind"), kind),
    field(`courier-${rx.prescription_id}`, t("review.courier_name"), courier)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t(pickUp ? "review.dispense_pickup" : "review.dispense"))));
  bindForm(form, async () => {
    await api(`/api/prescriptions/${rx.prescription_id}/dispensing`, { method: "POST",
      json: pickUp ? { courier_kind: "own", courier_name: null }
        : { courier_kind: kind.value, courier_name: courier.value.trim() || null } });
    notice($("#review-notice"), t("review.dispensed", { number: rx.prescription_number }));
    await refreshDispensing();
  });
  const card = prescriptionCard(rx, "pharmacist");
  card.append(form);
  return card;
}

function deliveryForm(rx) {
  const d = rx.dispensing;
  const next = d.status === "dispensed" ? "shipped" : "delivered";
  const tracking = h("input", { maxlength: 64, required: next === "shipped", value: d.tracking_number || "" });
  const form = h("form", {}, next === "shipped" ? field(`tracking-${d.dispensing_id}`, t("review.tracking_number"), tracking) : null,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t(`review.mark_${next}`))));
  bindForm(form, async () => {
    await api(`/api/dispensings/${d.dispensing_id}/delivery`, { method: "POST",
      json: { status: next, tracking_number: next === "shipped" ? tracking.value.trim() : null } });
    await refreshDispensing();
  });
  const card = prescriptionCard(rx, "pharmacist");
  // RX-08: the pharmacist shipping it reads the address in full (an audited read, SEC-01); the list shows it masked
  const shipTo = h("p", { class: "ship-to", "data-testid": "ship-to" });
  if (next === "shipped") {
    api(`/api/prescriptions/${rx.prescription_id}/delivery-address`).then((f) => {
      if (f.address) shipTo.append(h("strong", {}, `${t("delivery.address_for_shipping")}：`), addressText(f.address));
    });
  }
  card.append(shipTo, form);
  return card;
}

// A pick-up is handed over at the counter (RX-08): to the patient in person, or to someone they sent, named.
function collectionForm(rx) {
  const collector = h("select", { required: true },
    h("option", { value: "patient" }, t("review.collector_patient")), h("option", { value: "agent" }, t("review.collector_agent")));
  const agent = h("input", { maxlength: 50 });
  const agentField = field(`agent-${rx.prescription_id}`, t("review.agent_name"), agent);
  agentField.hidden = true;
  collector.addEventListener("change", () => {
    agentField.hidden = collector.value !== "agent";
    agent.required = collector.value === "agent";
  });
  const form = h("form", { class: "collection-form", "data-testid": "collection-form" }, field(`collector-${rx.prescription_id}`, t("review.collector"), collector),
    agentField, h("div", { class: "actions" }, h("button", { type: "submit" }, t("review.mark_collected"))));
  bindForm(form, async () => {
    await api(`/api/prescriptions/${rx.prescription_id}/collection`, { method: "POST",
      json: { collector: collector.value, agent_name: collector.value === "agent" ? agent.value.trim() : null } });
    notice($("#review-notice"), t("review.collected", { number: rx.prescription_number }));
    await refreshDispensing();
  });
  const card = prescriptionCard(rx, "pharmacist");
  card.append(form);
  return card;
}

async function refreshReviews() {
  await load($("#reviews"), () => api("/api/reviews/queue"), (queue) => queue.length
    ? queue.map(reviewCard) : h("p", { class: "empty" }, t("review.empty")));
}

async function refreshDispensing() {
  await Promise.all([
    load($("#dispensing"), () => api("/api/dispensing/queue"), (queue) => queue.length
      ? queue.map(dispenseForm) : h("p", { class: "empty" }, t("review.nothing_to_dispense"))),
    load($("#deliveries"), () => api("/api/prescriptions"), (all) => {
      // a pick-up is handed over at the counter, never shipped (RX-08)
      const moving = all.filter((rx) => rx.dispensing && rx.dispensing.status !== "delivered"
        && rx.fulfilment && rx.fulfilment.method === "delivery");
      return moving.length ? moving.map(deliveryForm) : h("p", { class: "empty" }, t("review.nothing_in_delivery"));
    }),
    load($("#collections"), () => api("/api/prescriptions"), (all) => {
      const waiting = all.filter((rx) => rx.dispensing && rx.dispensing.status === "dispensed" && isPickUp(rx));
      return waiting.length ? waiting.map(collectionForm) : h("p", { class: "empty" }, t("review.nothing_to_collect"));
    }),
  ]);
}

$("#refresh").addEventListener("click", () => Promise.all([refreshReviews(), refreshDispensing()]));
await Promise.all([refreshReviews(), refreshDispensing()]);
