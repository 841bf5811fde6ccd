// Book a follow-up (REV-06): a prior diagnosis, then only the sessions it can be booked into (REV-02, the reason
// for the others said before anything is pressed), only the modes the session offers, at the fee the disclosure
// publishes (INS-03), shown and accepted; a guardian for a child under 6 (REV-05). The server checks it all again.
import { api } from "../api.js";
import { formatDate, formatDateTime, formatTime, joinList, label, money, t } from "../i18n.js";
import { diagnosisSummary, eligibilityNode } from "../diagnoses.js";
import { params, startPage } from "../page.js";
import { safetyContextNode } from "../prescriptions.js";
import { safetyFields } from "../safety-form.js";
import { $, bindForm, clear, h, load } from "../ui.js";

await startPage({ role: "patient" });
const form = $("#book-form");
let preferred = params().get("prior");
let offer = null; // the bookable schedules of the chosen diagnosis

function priorOption(d, index, list) {
  // The one asked for, else the first that can found a visit, else the first.
  preferred = preferred || (list.find((x) => x.eligibility && x.eligibility.eligible) || list[0]).prior_diagnosis_id;
  const checked = d.prior_diagnosis_id === preferred;
  return h("label", { class: "check option", "data-testid": "prior-option" },
    h("input", { type: "radio", name: "prior_diagnosis_id", value: d.prior_diagnosis_id, required: true, checked }),
    h("span", {}, ...diagnosisSummary(d), eligibilityNode(d.eligibility)));
}

const [priors, me] = await Promise.all([
  load($("#prior-options"), () => api("/api/prior-diagnoses/"), (list) => list.length
    ? list.map(priorOption)
    : h("p", { class: "notice warn" }, t("book.no_diagnosis"), " ", h("a", { href: "/patient/diagnoses" }, t("book.upload_first")))),
  api("/api/me").catch(() => null),
]);
// REV-05: children under 6 come with a guardian, who is recorded.
const child = me && me.patient && me.patient.age < 6;
$("#guardian").hidden = !child;

/** Why a session is not offered, in the patient's words (the rule's ID for those who need it). */
function reasonText(reason) {
  const p = reason.params || {};
  if (reason.code === "department") return t("journey.reason_department", { department: p.department, serving: joinList(p.serving || []) });
  if (reason.code === "expired") return t("journey.reason_expired", { date: formatDate(p.valid_until) });
  return t("journey.reason_diagnosis");
}

// RX-04: the patient states allergies (coded, or "no known allergies" chosen explicitly), pregnancy and
// lactation, kidney and liver, and a child's weight and height at intake; each save is a new, audited version
// the doctor confirms or corrects in the visit.
async function mountIntakeSafety() {
  const current = await load($("#intake-safety-current"), () => api("/api/me/safety-context"), safetyContextNode);
  const vocabulary = await api("/api/safety-context/vocabulary");
  const fields = safetyFields(vocabulary, current, { height: Boolean(me && me.patient && me.patient.age < 14) });
  const safetyForm = h("form", { class: "safety-form", "aria-label": t("safety.intake_heading") }, fields.nodes,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, t("safety.intake_save"))));
  bindForm(safetyForm, async () => {
    await api("/api/me/safety-context", { method: "PUT", json: fields.value() });
    await mountIntakeSafety();
  });
  clear($("#intake-safety-form"), safetyForm);
}
await mountIntakeSafety();

function scheduleOption(s, index) {
  const full = s.free_places <= 0;
  const prices = s.modes.filter((m) => s.prices[m]).map((m) => `${label("mode", m)} ${money(s.prices[m])}`);
  return h("label", { class: "check option", "data-testid": "schedule-option", "data-department": s.department_code },
    h("input", { type: "radio", name: "schedule_id", value: s.schedule_id, required: true, disabled: full, checked: index === 0 && !full }),
    h("span", {},
      h("strong", {}, `${formatDateTime(s.starts_at)}–${formatTime(s.ends_at)}`), h("br"),
      `${s.department_name} · ${s.doctor_name} ${s.doctor_title || ""}`, h("br"),
      h("small", { class: "muted" }, `${joinList(prices)} · `, full ? t("book.full") : t("book.places", { count: s.free_places }))));
}

function hiddenNote(hidden) {
  if (!hidden.length) return null;
  // One line per reason: the sessions are not offered, and the patient is told why.
  const reasons = new Map();
  for (const s of hidden) {
    const text = reasonText(s.reason);
    if (!reasons.has(text)) reasons.set(text, { count: 0, rule: s.reason.rule_id });
    reasons.get(text).count += 1;
  }
  return h("div", { class: "notice", role: "note", "data-testid": "schedules-hidden" },
    h("p", {}, t("journey.hidden_sessions", { count: hidden.length })),
    h("ul", {}, [...reasons].map(([text, r]) => h("li", {}, text, " ", h("small", { class: "rule-id" }, r.rule)))));
}

function chosenSchedule() {
  const id = form.elements.schedule_id ? new FormData(form).get("schedule_id") : null;
  return offer && offer.schedules.find((s) => s.schedule_id === id);
}

function showModes() {
  const s = chosenSchedule();
  const box = $("#mode-options");
  if (!s) { clear(box, h("p", { class: "empty" }, t("journey.choose_session_first"))); showFee(); return; }
  const before = new FormData(form).get("mode");
  const modes = s.modes.filter((m) => s.prices[m]);
  const chosen = modes.includes(before) ? before : modes[0];
  clear(box, modes.map((m) => h("label", { class: "check", "data-testid": "mode-option" },
    h("input", { type: "radio", name: "mode", value: m, required: true, checked: m === chosen, onchange: showFee }),
    " ", h("span", {}, `${t(`book.mode_${m}`)} · ${money(s.prices[m])}`))));
  showFee();
}

function showFee() {
  const s = chosenSchedule();
  const mode = new FormData(form).get("mode");
  const fee = s && mode ? s.prices[mode] : null;
  const amount = $("#fee-amount");
  amount.dataset.fee = fee || "";
  clear(amount, fee ? h("strong", {}, t("journey.fee_amount", { mode: label("mode", mode), amount: money(fee) })) : t("journey.choose_session_first"));
}

async function showSchedules() {
  const prior = new FormData(form).get("prior_diagnosis_id");
  if (!prior) {
    clear($("#schedule-options"), h("p", { class: "empty" }, t("book.no_schedules")));
    showModes();
    return;
  }
  offer = await load($("#schedule-options"), () => api(`/api/schedules/bookable?prior_diagnosis_id=${encodeURIComponent(prior)}`), (data) => {
    const eligible = data.schedules.filter((s) => s.eligible);
    return eligible.length ? eligible.map(scheduleOption) : h("p", { class: "empty" }, t("journey.no_eligible_sessions"));
  });
  clear($("#schedule-hidden"), offer ? hiddenNote(offer.schedules.filter((s) => !s.eligible)) : null);
  showModes();
}

form.addEventListener("change", (event) => {
  if (event.target.name === "prior_diagnosis_id") showSchedules();
  else if (event.target.name === "schedule_id") showModes();
});
await showSchedules();

bindForm(form, async (data) => {
  if (!priors || !priors.length) throw { status: 422, ruleId: "REV-01", detail: t("book.no_diagnosis") };
  const body = { schedule_id: data.get("schedule_id"), prior_diagnosis_id: data.get("prior_diagnosis_id"), mode: data.get("mode"),
    fee_cny: $("#fee-amount").dataset.fee, fee_accepted: form.elements.fee_accepted.checked };
  if (child) {
    body.guardian = { name: data.get("guardian_name").trim(), id_number: data.get("guardian_id").trim().toUpperCase(),
      relationship: data.get("guardian_relationship"), present_confirmed: form.elements.guardian_present.checked,
      mobile: data.get("guardian_mobile").trim() };
  }
  const visit = await api("/api/visits/", { method: "POST", json: body });
  location.assign(`/patient/visits/${visit.visit_id}?booked=1`);
});
clear($("#book-error"));
