// The pharmacist's work (RX-06, RX-08): review with the rule findings and the doctor's signature, approve or
// reject with reasons (both decisions signed); then both signatures checked on the export; dispensing and delivery.
import { api } from "../api.js";
import { formatDateTime, t } from "../i18n.js";
import { startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { addressText, prescriptionCard, safetyContextNode } from "../prescriptions.js";
import { $, bindForm, clear, field, h, load, notice, showError } from "../ui.js";

await startPage({ role: "pharmacist" });
showPracticeSession($("#practice"), "pharmacist");

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

function reviewForm(rx, card) {
  const reasons = h("textarea", { maxlength: 2000, rows: 3 });
  const acks = acknowledgementFields(rx);
  const form = h("form", { class: "review-form", "aria-label": t("review.form_label", { number: rx.prescription_number }) },
    acks.nodes,
    field(`reasons-${rx.prescription_id}`, t("review.reasons"), reasons, t("review.reasons_hint")),
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "approve" }, t("review.approve")),
      h("button", { type: "submit", value: "reject", class: "danger" }, t("review.reject"))));
  bindForm(form, async (data, _form, submitter) => {
    const decision = submitter ? submitter.value : "approve";
    const lines = reasons.value.split("\n").map((r) => r.trim()).filter(Boolean);
    const reviewed = await api(`/api/prescriptions/${rx.prescription_id}/review`, { method: "POST",
      json: { decision, reasons: lines, version: rx.version, acknowledgements: decision === "approve" ? acks.values() : [] } });
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

function reviewCard(rx) {
  const card = prescriptionCard(rx, "pharmacist");
  card.append(h("h4", {}, t("review.safety_context")), safetyContextNode(rx.safety_context), signatureFacts(rx),
    reviewForm(rx, card));
  return card;
}

function dispenseForm(rx) {
  const kind = h("select", { required: true }, h("option", { value: "third_party" }, t("courier.third_party")),
    h("option", { value: "own" }, t("courier.own")));
  const courier = h("input", { maxlength: 100, value: "顺丰速运" });
  const form = h("form", {}, h("div", { class: "grid-2" }, field(`kind-${rx.prescription_id}`, t("review.courier_kind"), kind),
    field(`courier-${rx.prescription_id}`, t("review.courier_name"), courier)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("review.dispense"))));
  bindForm(form, async () => {
    await api(`/api/prescriptions/${rx.prescription_id}/dispensing`, { method: "POST",
      json: { courier_kind: kind.value, courier_name: courier.value.trim() || null } });
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
  ]);
}

$("#refresh").addEventListener("click", () => Promise.all([refreshReviews(), refreshDispensing()]));
await Promise.all([refreshReviews(), refreshDispensing()]);
