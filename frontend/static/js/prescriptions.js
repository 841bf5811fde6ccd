// Prescriptions as each role sees them (RX-05 … RX-08): the signed document, its review state, the rule
// findings (clinicians only), and dispensing with delivery tracking.
import { api, apiBlob } from "./api.js";
import { formatDate, formatDateTime, isEnglish, label, money, pick, t } from "./i18n.js";
import { badge, bindButton, clear, field, h, load, table } from "./ui.js";

const STATUS_KIND = { pending_review: "warn", approved: "ok", rejected: "bad" };

export function statusBadge(status) {
  return badge(label("rx_status", status), STATUS_KIND[status] || "");
}

/** The patient's safety context (RX-04) as the clinicians see it: allergies, pregnancy, impairments, weight. */
export function safetyContextNode(context) {
  if (!context || !context.recorded) {
    return h("p", { class: "error-box", "data-testid": "safety-context" }, t("safety.none"));
  }
  const allergies = context.allergy_status === "no_known_allergies" ? t("safety.no_known_allergies")
    : context.allergies.map((a) => label("allergen", a)).join("、");
  return h("dl", { class: "facts small", "data-testid": "safety-context" },
    h("dt", {}, t("safety.allergies")), h("dd", {}, allergies),
    h("dt", {}, t("safety.pregnancy")), h("dd", {}, label("pregnancy", context.pregnancy) + (context.lactating ? `，${t("safety.lactating")}` : "")),
    h("dt", {}, t("safety.renal")), h("dd", {}, label("impairment", context.renal) + (context.egfr !== null && context.egfr !== undefined ? `（eGFR ${context.egfr}）` : "")),
    h("dt", {}, t("safety.hepatic")), h("dd", {}, label("impairment", context.hepatic)),
    h("dt", {}, t("safety.weight")), h("dd", {}, context.weight_kg ? `${context.weight_kg} kg` : "—"),
    h("dt", {}, t("safety.version")), h("dd", {}, t("safety.version_value", { version: context.version,
      who: label("safety_by", context.recorded_by_role), confirmed: context.confirmed_by_doctor ? t("safety.confirmed") : "" })));
}

/** A finding in the page language: on a Chinese page the finding rule's own reason, never the English sentence,
 * with what it is about (the drugs it names), so two findings of one rule read differently (issue 14). */
function findingText(f) {
  if (isEnglish || !f.title) return f.message;
  if (f.detail_zh) return `${pick(f.title)}：${f.detail_zh}`;
  return f.subject ? t("rx.finding_about", { reason: pick(f.title), subject: f.subject }) : pick(f.title);
}

export function findingsNode(findings, { heading = t("rx.findings") } = {}) {
  if (!findings || !findings.length) return null;
  // Each finding once, with its rule ID: the same rule saying the same thing twice is one line.
  const seen = new Set();
  const once = findings.filter((f) => {
    const key = `${f.rule_id}|${f.severity}|${f.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return h("div", { class: "findings", "data-testid": "findings" }, h("strong", {}, heading),
    h("ul", { class: "list-plain" }, once.map((f) => h("li", { class: `finding finding-${f.severity}` },
      h("span", { class: "rule-id" }, f.rule_id), " ", badge(label("severity_rx", f.severity), f.severity === "block" ? "bad" : "warn"),
      " ", findingText(f)))));
}

function frequency(item) {
  const every = item.interval_days > 1 ? t("rx.every_days", { days: item.interval_days }) : "";
  return `${every}${t("rx.times_per_day", { times: item.times_per_day })}`;
}

/** "28 tablet" → "28片" (the document keeps the formulary's unit; the page says it in the reader's language).
 * hospital-rx/2 signs the pack as {size, unit}; version 1 signed the text "28 tablet" (both still verify). */
function packText(pack) {
  const [size, unit] = typeof pack === "object" && pack ? [pack.size, pack.unit] : String(pack).split(" ");
  return unit ? `${size}${label("unit", unit)}` : String(pack);
}

/** "5 mg", from hospital-rx/2's {value, unit} or version 1's text. */
function strengthText(strength) {
  return typeof strength === "object" && strength ? `${strength.value} ${strength.unit}` : String(strength);
}

export function itemsTable(items) {
  return table(null, [t("rx.drug"), t("rx.dose"), t("rx.frequency"), t("rx.days"), t("rx.quantity"), t("rx.amount")],
    items.map((item) => [
      h("span", {}, `${item.name_zh}（${strengthText(item.strength)}）`, item.usage ? h("br") : null, item.usage ? h("small", { class: "muted" }, item.usage) : null),
      `${item.dose_per_time} ${item.dose_unit}`, frequency(item), t("rx.days_value", { days: item.days_supply }),
      `${item.quantity_packs} × ${packText(item.pack)}`, money(item.amount_cny),
    ]), { numeric: [5] });
}

/** True when the drugs are handed over at the pharmacy's counter: pick-up is what is left unchosen (RX-08). */
export function isPickUp(rx) {
  return !rx.fulfilment || rx.fulfilment.method === "pickup";
}

function deliveryNode(d, level, pickUp) {
  if (!d) return null;
  // A pick-up has no courier: its card says "collection at the pharmacy", never a courier company (RX-08).
  return h("div", { class: "delivery", "data-testid": "delivery" },
    h(`h${level + 1}`, {}, t(pickUp ? "rx.pickup" : "rx.delivery")),
    h("p", {}, badge(label("delivery", d.status), ["delivered", "collected"].includes(d.status) ? "ok" : "warn"),
      pickUp ? "" : [" ", label("courier", d.courier_kind), d.courier_name ? ` · ${d.courier_name}` : ""],
      d.tracking_number ? ` · ${t("rx.tracking", { number: d.tracking_number })}` : ""),
    h("ol", { class: "timeline" }, d.history.map((step) => h("li", {},
      h("strong", {}, label("delivery", step.status)), ` ${formatDateTime(step.at)}`, step.note ? ` · ${step.note}` : "",
      // RX-08: who took a pick-up away, the patient or the person they sent
      step.collector ? ` · ${t("rx.collected_by", { who: step.agent_name || t("review.collector_patient") })}` : ""))));
}

/** Pick-up or delivery (RX-08), the address as the API gives it (masked in lists, SEC-01). */
export function addressText(a) {
  return `${a.province}${a.city}${a.district}${a.detail} · ${a.recipient} ${a.mobile}${a.postcode ? ` · ${a.postcode}` : ""}`;
}

function fulfilmentNode(f) {
  if (!f) return null;
  return h("p", { class: "fulfilment", "data-testid": "fulfilment", "data-method": f.method },
    f.method === "delivery" && f.address
      ? [h("strong", {}, t("delivery.chosen_delivery")), " ", addressText(f.address)]
      : t("delivery.chosen_pickup"));
}

/** One prescription; `role` decides what is shown beyond the document (the API already leaves it out). */
export function prescriptionCard(rx, role, level = 3) {
  const doc = rx.document;
  const review = rx.review;
  return h("article", { class: "prescription card", "data-testid": "prescription", "data-status": rx.status },
    // `level`: the card's heading follows the page's outline (axe heading-order): h2 on a page of prescriptions
    h("div", { class: "row" }, h(`h${level}`, {}, t("rx.number", { number: rx.prescription_number })), statusBadge(rx.status)),
    h("p", { class: "small muted" }, t("rx.issued", { at: formatDateTime(rx.issued_at), until: formatDate(rx.valid_until) })),
    h("p", {}, `${t("rx.patient")}：${doc.patient.name}（${label("sex", doc.patient.sex)}，${t("patient.age_value", { age: doc.patient.age })}）`),
    // the patient reads diagnosis names; the codes are for clinicians (plain words, issue 14)
    h("p", {}, `${t("rx.diagnoses")}：`, doc.diagnoses.map((d) => (role === "patient" ? d.name : `${d.name}（${d.icd10}）`)).join("；")),
    itemsTable(doc.items),
    h("p", { class: "row" }, h("span", {}, t("rx.doctor_signed", { name: doc.doctor.name, title: doc.doctor.title })),
      h("strong", {}, t("rx.total", { total: money(rx.total_cny) }))),
    rx.status === "pending_review" ? h("p", { class: "notice warn" }, t("rx.waiting_review")) : null,
    rx.status === "approved" ? h("p", { class: "notice", "data-testid": "rx-effective" }, t("rx.effective", {
      at: formatDateTime(review && review.reviewed_at) })) : null,
    rx.status === "approved" ? paperNode(rx) : null,
    rx.status === "rejected" ? h("div", { class: "error-box", role: "note" }, h("strong", {}, t("rx.rejected")),
      review && review.reasons ? h("ul", {}, review.reasons.map((r) => h("li", {}, r))) : null) : null,
    rx.superseded_by_id ? h("p", { class: "small muted" }, t("rx.superseded")) : null,
    role === "doctor" && rx.status === "rejected" && !rx.superseded_by_id ? withdrawNode(rx, role, level) : null,
    role !== "patient" ? findingsNode(rx.findings) : null,
    fulfilmentNode(rx.fulfilment),
    deliveryNode(rx.dispensing, level, isPickUp(rx)));
}

/** The printable 处方笺 (issue 19): the PDF the hospital sealed, fetched with the bearer token and saved. */
function paperNode(rx) {
  const button = h("button", { type: "button", class: "secondary", "data-testid": "rx-pdf" }, t("rx.pdf"));
  const saved = h("span", {});
  const errors = h("div", { role: "alert" });
  bindButton(button, errors, async () => {
    const url = URL.createObjectURL(await apiBlob(`/api/prescriptions/${rx.prescription_id}/document.pdf`));
    const link = h("a", { href: url, download: `${rx.prescription_number}.pdf`, "data-testid": "rx-pdf-link" },
      t("rx.pdf_saved", { number: rx.prescription_number }));
    clear(saved, link);
    link.click();
  });
  return h("div", { class: "row" }, button, saved, errors);
}

/** The doctor withdraws a rejected prescription instead of revising it: it is voided (RX-06, issue 15). */
function withdrawNode(rx, role, level) {
  const reason = h("input", { type: "text", maxlength: "500", required: true });
  const button = h("button", { type: "button", class: "secondary", "data-testid": "rx-withdraw" }, t("rx.withdraw"));
  const errors = h("div", { role: "alert" });
  const box = h("div", { class: "row" }, field(`withdraw-${rx.prescription_id}`, t("rx.withdraw_reason"), reason),
    button, errors);
  bindButton(button, errors, async () => {
    const withdrawn = await api(`/api/prescriptions/${rx.prescription_id}/withdrawal`,
      { method: "POST", json: { reason: reason.value.trim() } });
    box.closest("article").replaceWith(prescriptionCard(withdrawn, role, level));
  });
  return box;
}

export function prescriptionList(list, role, level = 3) {
  if (!list.length) return h("p", { class: "empty" }, t("rx.none"));
  return list.map((rx) => prescriptionCard(rx, role, level));
}

/** The visit's prescriptions, read-only (the patient; the doctor's form is in prescription-form.js). */
export async function mountPrescriptions(root, visitId, role) {
  clear(root);
  return load(root, () => api(`/api/visits/${visitId}/prescriptions`), (list) => prescriptionList(list, role));
}
