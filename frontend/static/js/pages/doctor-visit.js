// The visit view for its doctor: the patient and the prior diagnosis with its document, acceptance with the
// revisit confirmed (REV-04, FACE-02), the consultation, the EMR (REC-01) signed off with a fresh face (FACE-03),
// termination with referral (REV-04), and the prescription (RX).
import { api, apiBlob } from "../api.js";
import { signedPost } from "../signing-device.js";
import { mountChat } from "../chat.js";
import { EMR_FIELDS, emrNode } from "../emr.js";
import { formatDate, formatDateTime, formatTime, label, sayOnLanguage, t } from "../i18n.js";
import { pathId, startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { mountDoctorPrescriptions } from "../prescription-form.js";
import { $, bindButton, bindForm, clear, h, load, notice, rebuildKeepingInput, showError } from "../ui.js";
import { mountVideo } from "../video.js";
import { stateBadge } from "../visits.js";

await startPage({ role: "doctor" });
const visitId = pathId();
const emrForm = $("#emr-form");
let chat = null;
let visit = null;

showPracticeSession($("#practice"), "doctor");

function summary(v) {
  const p = v.prior_diagnosis;
  return [
    h("div", { class: "row" }, h("strong", { "data-testid": "patient-name" },
      `${v.patient.name}（${label("sex", v.patient.sex)}，${t("patient.age_value", { age: v.patient.age })}）`), stateBadge(v.state)),
    h("p", {}, `${t("queue.number")} ${v.queue_number} · ${formatDateTime(v.starts_at)}–${formatTime(v.ends_at)} · ${v.department_name} · ${label("mode", v.mode)}`),
    v.guardian ? h("p", { class: "notice warn" }, t("dvisit.guardian", { name: v.guardian.name, relationship: label("guardian", v.guardian.relationship) })) : null,
    h("h3", {}, t("dvisit.prior")),
    h("dl", { class: "facts", "data-testid": "prior-diagnosis" },
      h("dt", {}, t("diagnoses.name")), h("dd", {}, `${p.diagnosis_name}（${p.icd10_code}）`),
      h("dt", {}, t("diagnoses.institution")), h("dd", {}, p.institution_name),
      h("dt", {}, t("diagnoses.date")), h("dd", {}, formatDate(p.diagnosed_on)),
      h("dt", {}, t("diagnoses.document_type")), h("dd", {}, label("document", p.document_type))),
    p.name_finding ? h("p", { class: "error-box", role: "note", "data-testid": "name-finding" }, p.name_finding) : null,
    v.stopped ? h("p", { class: "error-box", role: "alert", "data-testid": "visit-stopped" }, t("dvisit.stopped", { reason: v.stopped.reason })) : null,
    v.infectious_flag ? h("p", { class: "error-box", role: "note" }, t("dvisit.infectious", { disease: v.infectious_flag.disease_zh || v.infectious_flag.icd10_code || "" })) : null,
    v.state === "terminated" && v.referral ? h("p", { class: "notice warn" }, t("visit.referral", { institution: v.referral.institution,
      department: v.referral.department || "", advice: v.referral.advice })) : null,
  ];
}

// The records the revisit confirmation rests on (REV-04); reading them is audited.
let shownDocument = null;
function showDocument({ url, image }) {
  clear($("#document"), image
    ? h("img", { src: url, alt: t("dvisit.document_alt"), class: "document-image" })
    : h("p", {}, h("a", { href: url, target: "_blank", rel: "noopener", "data-testid": "document-link" }, t("dvisit.open_pdf"))));
}
bindButton($("#show-document"), $("#document"), async () => {
  const blob = await apiBlob(`/api/visits/${visitId}/prior-diagnosis/document`);
  shownDocument = { url: URL.createObjectURL(blob), image: blob.type.startsWith("image/") };
  showDocument(shownDocument);
});

function showActions(v) {
  const allowed = new Set(v.allowed_actions);
  $("#accept-form").hidden = !allowed.has("accept");
  $("#start").hidden = !allowed.has("start");
  // REV-02: a name that disagrees with its code is resolved in writing; REV-05: a child under 6 starts with the
  // guardian's presence confirmed by the doctor.
  $("#name-resolution-field").hidden = !allowed.has("accept") || !v.prior_diagnosis.name_finding;
  $("#guardian-present-field").hidden = !allowed.has("start") || v.patient.age >= 6;
  $("#complete").hidden = !allowed.has("complete");
  $("#terminate-box").hidden = !allowed.has("terminate");
  const open = v.state === "accepted" || v.state === "in_progress";
  emrForm.hidden = !open || (v.medical_record && v.medical_record.signed);
  if (!chat && v.state !== "requested" && v.state !== "cancelled") chat = mountChat($("#chat"), visitId, { myRole: "doctor", canWrite: open });
  if (chat) chat.setWritable(open);
  mountVideo($("#video"), v, "doctor");
}

let prescribingOpen = null;
async function refresh() {
  visit = await load($("#summary"), () => api(`/api/visits/${visitId}`), summary);
  if (visit) {
    showActions(visit);
    // The prescription form is there while the visit may prescribe (accepted or in progress, RX-01).
    const open = visit.state === "accepted" || visit.state === "in_progress";
    if (open !== prescribingOpen) {
      prescribingOpen = open;
      await mountDoctorPrescriptions($("#prescriptions"), visit, { open });
    }
  }
  return visit;
}

async function act(path, body, message) {
  await api(`/api/visits/${visitId}/${path}`, { method: "POST", json: body });
  notice($("#visit-notice"), message);
  await refresh();
  await loadRecord();
}

bindForm($("#accept-form"), (data) => act("accept", { revisit_confirmed: true,
  name_resolution: (data.get("name_resolution") || "").trim() || null }, t("dvisit.accepted")));
bindButton($("#start"), $("#action-error"), () => act("start",
  { guardian_present_confirmed: $("#guardian_present").checked }, t("dvisit.started")));
bindButton($("#complete"), $("#action-error"), () => act("complete", {}, t("dvisit.completed")));

const terminateForm = $("#terminate-form");
terminateForm.elements.reason.addEventListener("change", () => {
  $("#suspected-field").hidden = terminateForm.elements.reason.value !== "suspected_infectious";
});
bindForm(terminateForm, async (data) => {
  const reason = data.get("reason");
  const institution = data.get("institution").trim();
  const body = { reason, note: data.get("note").trim(),
    referral: institution ? { institution, department: data.get("department").trim(), advice: data.get("advice").trim(),
      urgent: terminateForm.elements.urgent.checked } : null,
    suspected_icd10: reason === "suspected_infectious" && data.get("suspected_icd10").trim() ? data.get("suspected_icd10").trim().toUpperCase() : null };
  await act("terminate", body, t("dvisit.terminated"));
});

function emrBody(data) {
  const body = {};
  for (const name of EMR_FIELDS) body[name] = String(data.get(name) || "").trim();
  body.diagnosis_icd10 = body.diagnosis_icd10.toUpperCase();
  return body;
}

let record = null;
function showRecordState() {
  clear($("#emr-state"));
  if (!record) return;
  if (record.signed) {
    emrForm.hidden = true;
    clear($("#emr-signed"), emrNode(record));
  } else {
    clear($("#emr-state"), h("p", { class: "small muted" }, t("dvisit.emr_draft_saved")));
  }
}

async function loadRecord() {
  try {
    record = await api(`/api/visits/${visitId}/medical-record`);
    for (const name of EMR_FIELDS) if (emrForm.elements[name]) emrForm.elements[name].value = record[name] || "";
    showRecordState();
  } catch (error) {
    if (error.status !== 404) showError($("#emr-state"), error);
    else if (visit && !emrForm.elements.diagnosis_icd10.value) {  // a new record starts from the prior diagnosis
      emrForm.elements.diagnosis_icd10.value = visit.prior_diagnosis.icd10_code;
      emrForm.elements.diagnosis_name.value = visit.prior_diagnosis.diagnosis_name;
      emrForm.elements.allergy_history.value = "";
    }
  }
}

bindForm(emrForm, async (data, form, submitter) => {
  await api(`/api/visits/${visitId}/medical-record`, { method: "PUT", json: emrBody(data) });
  if (submitter && submitter.value === "sign") {
    await signedPost(`/api/visits/${visitId}/medical-record/sign-off`, {}); // RX-05: on this device
    notice($("#visit-notice"), t("dvisit.emr_signed"));
    await refresh();
  } else {
    notice($("#visit-notice"), t("dvisit.emr_saved"));
  }
  await loadRecord();
});

// The language switch keeps a call running beside the chat (issue 14): the page's own texts in the new language
// (what the doctor typed stays), the call and the chat say theirs themselves (call.js, chat.js).
sayOnLanguage(async () => {
  clear($("#visit-notice"));
  if (shownDocument) showDocument(shownDocument);
  showRecordState();
  if (!visit) return;
  clear($("#summary"), summary(visit)); // the visit as last read: no loading flash
  showActions(visit);
  await Promise.all([
    showPracticeSession($("#practice"), "doctor"),
    rebuildKeepingInput($("#prescriptions"), (fresh) => mountDoctorPrescriptions(fresh, visit, { open: prescribingOpen })),
  ]);
});

await refresh();
await loadRecord();
// Follow state changes made elsewhere (the patient cancelling, the face watch pausing).
setInterval(async () => {
  if (visit && ["requested", "accepted", "in_progress"].includes(visit.state)) {
    try {
      const latest = await api(`/api/visits/${visitId}`);
      if (latest.state !== visit.state || latest.paused !== visit.paused) await refresh();
    } catch (error) {
      showError($("#action-error"), error);
    }
  }
}, 10000);
