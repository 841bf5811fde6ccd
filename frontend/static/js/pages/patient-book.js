// Book a follow-up (REV-06): a prior diagnosis, a published schedule, a mode; a guardian for a child under 6
// (REV-05). The server decides; a refusal is shown with its rule (e.g. REV-03 for a diagnosis never seen online).
import { api } from "../api.js";
import { formatDateTime, formatTime, joinList, label, money, t } from "../i18n.js";
import { diagnosisSummary, eligibilityNode } from "../diagnoses.js";
import { params, startPage } from "../page.js";
import { safetyContextNode } from "../prescriptions.js";
import { safetyFields } from "../safety-form.js";
import { $, bindForm, clear, h, load } from "../ui.js";

await startPage({ role: "patient" });
const form = $("#book-form");
const wanted = params().get("prior");

let preferred = wanted;
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
  return h("label", { class: "check option", "data-testid": "schedule-option" },
    h("input", { type: "radio", name: "schedule_id", value: s.schedule_id, required: true, disabled: full, checked: index === 0 && !full }),
    h("span", {},
      h("strong", {}, `${formatDateTime(s.starts_at)}–${formatTime(s.ends_at)}`), h("br"),
      `${s.department_name} · ${s.doctor_name} ${s.doctor_title || ""}`, h("br"),
      h("small", { class: "muted" }, `${joinList(s.modes.map((m) => label("mode", m)))} · ${money(s.price_cny)} · `,
        full ? t("book.full") : t("book.places", { count: s.free_places }))));
}

await load($("#schedule-options"), () => api("/api/schedules/", { auth: false }), (schedules) => schedules.length
  ? schedules.map(scheduleOption)
  : h("p", { class: "empty" }, t("book.no_schedules")));

bindForm(form, async (data) => {
  if (!priors || !priors.length) throw { status: 422, ruleId: "REV-01", detail: t("book.no_diagnosis") };
  const body = { schedule_id: data.get("schedule_id"), prior_diagnosis_id: data.get("prior_diagnosis_id"), mode: data.get("mode") };
  if (child) {
    body.guardian = { name: data.get("guardian_name").trim(), id_number: data.get("guardian_id").trim().toUpperCase(),
      relationship: data.get("guardian_relationship"), present_confirmed: form.elements.guardian_present.checked,
      mobile: data.get("guardian_mobile").trim() };
  }
  const visit = await api("/api/visits/", { method: "POST", json: body });
  location.assign(`/patient/visits/${visit.visit_id}?booked=1`);
});
clear($("#book-error"));
