// One visit for its patient: the queue, the consultation (video or chat), the signed EMR, prescriptions,
// and afterwards rating, complaint and adverse-reaction reporting (REV-06, REC-01, QA-01).
import { api } from "../api.js";
import { mountChat } from "../chat.js";
import { emrNode } from "../emr.js";
import { formatDateTime, formatTime, label, sayOnLanguage, t } from "../i18n.js";
import { params, pathId, startPage } from "../page.js";
import { mountPrescriptions } from "../prescriptions.js";
import { $, bindButton, bindForm, clear, h, load, notice, showError } from "../ui.js";
import { mountVideo } from "../video.js";
import { stateBadge, visitNotice } from "../visits.js";

await startPage({ role: "patient" });
const visitId = pathId();
const LIVE = ["requested", "accepted", "in_progress"];
let chat = null;
let shownState = null;

if (params().get("booked")) notice($("#visit-notice"), t("visit.booked"));
$("#complain-link").href = `/patient/feedback?visit=${visitId}`;
$("#adverse-link").href = `/patient/feedback?visit=${visitId}#adverse-heading`;

function summary(v) {
  return [
    h("div", { class: "row" }, h("strong", {}, `${v.department_name} · ${v.doctor_name} ${v.doctor_title || ""}`), stateBadge(v.state)),
    h("p", {}, `${formatDateTime(v.starts_at)}–${formatTime(v.ends_at)} · ${label("mode", v.mode)}`),
    v.state === "requested" ? h("div", { class: "notice", "data-testid": "queue" },
      h("div", { class: "queue-number" }, String(v.queue_number)), t("visit.waiting", { number: v.queue_number }),
      // the place as it stands now: it moves as the visits before are taken, end or are cancelled (REV-06)
      v.queue ? h("p", { "data-testid": "queue-position" }, t("visit.position", { position: v.queue.position,
        ahead: v.queue.position - 1 })) : null) : null,
    v.state === "accepted" ? h("p", { class: "notice" }, t("visit.accepted_wait")) : null,
    v.state === "in_progress" ? h("p", { class: "notice" }, t("visit.in_progress")) : null,
    v.paused ? h("p", { class: "notice warn" }, t("visit.paused")) : null,
    visitNotice(v),
    v.state === "terminated" ? h("div", { class: "error-box", role: "note", "data-testid": "referral" },
      h("strong", {}, t("visit.terminated", { reason: label("termination", v.termination_reason) })),
      v.referral ? h("p", {}, t("visit.referral", { institution: v.referral.institution, department: v.referral.department || "",
        advice: v.referral.advice })) : null) : null,
    h("p", { class: "small muted" }, t("journey.visit_prior", { name: v.prior_diagnosis.diagnosis_name })),
  ];
}

function actions(v) {
  const area = $("#visit-actions");
  clear(area);
  if (v.allowed_actions.includes("cancel")) {
    const button = h("button", { type: "button", class: "secondary" }, t("visit.cancel"));
    bindButton(button, $("#action-error"), async () => {
      if (!confirm(t("visit.cancel_confirm"))) return;
      await api(`/api/visits/${visitId}/cancel`, { method: "POST", json: { reason: "" } });
      await refresh();
    });
    area.append(button);
  }
}

async function showRecord(v) {
  if (!v.medical_record || !v.medical_record.signed) {
    clear($("#emr"), h("p", { class: "empty" }, t("visit.no_emr")));
    return;
  }
  await load($("#emr"), () => api(`/api/visits/${visitId}/medical-record`), emrNode);
}

function consultation(v) {
  const open = v.state === "accepted" || v.state === "in_progress";
  $("#consult-section").hidden = !open && !["completed", "terminated"].includes(v.state);
  mountVideo($("#video"), v, "patient");
  if (!chat && !$("#consult-section").hidden) chat = mountChat($("#chat"), visitId, { myRole: "patient", canWrite: open });
  if (chat) chat.setWritable(open);
  if (chat && !open) chat.stop();
}

// The waiting room: the place in the queue (open visits before this one) and the doctor's arrival in the call.
async function waitingRoom(v) {
  if (!LIVE.includes(v.state)) return;
  let room;
  try {
    room = await api(`/api/visits/${visitId}/call/waiting-room`);
  } catch {
    return; // the visit page works without it
  }
  const lines = [];
  // the same count as the visit list: the visits before it the doctor has not yet taken (issue 16)
  if (room.position) lines.push(room.position > 1 ? t("visit.ahead", { count: room.position - 1 }) : t("visit.next"));
  if (room.doctor_in_call) lines.push(t("visit.doctor_in_call"));
  if (!lines.length) return;
  $("#summary").append(h("p", { class: room.doctor_in_call ? "notice ok" : "notice", "data-testid": "waiting-room",
    "data-doctor-in-call": String(room.doctor_in_call), role: "status" }, lines.join(" ")));
}

async function refresh({ quiet = false } = {}) {
  let visit;
  if (quiet) {  // following the queue: no loading flash, but a failure still shows
    try {
      visit = await api(`/api/visits/${visitId}`);
      clear($("#summary"), summary(visit));
    } catch (error) {
      showError($("#summary"), error);
      return null;
    }
  } else {
    visit = await load($("#summary"), () => api(`/api/visits/${visitId}`), summary);
  }
  if (!visit) return null;
  await waitingRoom(visit);
  actions(visit);
  consultation(visit);
  if (visit.state !== shownState) {
    shownState = visit.state;
    mountPrescriptions($("#prescriptions"), visitId, "patient");
    await showRecord(visit);
    $("#rating-section").hidden = !["completed", "terminated"].includes(visit.state);
  }
  return visit;
}

let rated = null;
bindForm($("#rating-form"), async (data, form) => {
  await api(`/api/visits/${visitId}/rating`, { method: "POST", json: { score: Number(data.get("score")), comment: data.get("comment").trim() } });
  rated = h("p", { class: "notice", role: "status" }, t("visit.rated"));
  form.replaceWith(rated);
});

// The language switch keeps a call running beside the chat (issue 14): the page's own texts in the new language,
// the call and the chat say theirs themselves (call.js, chat.js). Notices of what was done before are dropped.
sayOnLanguage(async () => {
  if (params().get("booked")) notice($("#visit-notice"), t("visit.booked"));
  else clear($("#visit-notice"));
  if (rated) rated.textContent = t("visit.rated");
  shownState = null; // the prescriptions and the record again
  await refresh({ quiet: true });
});

const first = await refresh();
// Waiting in the queue: follow the visit until it ends.
if (first && LIVE.includes(first.state)) {
  const timer = setInterval(async () => {
    const visit = await refresh({ quiet: true });
    if (!visit || !LIVE.includes(visit.state)) clearInterval(timer);
  }, 5000);
}
