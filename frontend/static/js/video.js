// The video (or audio, 语音) consultation of a visit, for a visit that is accepted or in progress: join it inside the
// visit page (call.js beside the chat and the records), or open its call page (/visits/{id}/call) in this tab,
// which finds the session the log-in page keeps. The doctor's face is watched throughout (FACE-02).
import { startCall } from "./call.js";
import { t } from "./i18n.js";
import { clear, h } from "./ui.js";

let mounted = null; // the visit whose call runs on this page; it ends itself when the visit ends

function callNode() {
  return h("div", { class: "call", "data-call-state": "loading", "data-testid": "call" },
    h("p", { "data-testid": "call-status", role: "status", "aria-live": "polite" }, t("video.connecting")),
    h("p", { "data-testid": "call-notice", role: "alert", hidden: true }),
    h("div", { class: "call-videos" },
      h("video", { "data-testid": "remote-video", autoplay: true, playsinline: true, "aria-label": t("video.remote") }),
      h("video", { "data-testid": "local-video", autoplay: true, playsinline: true, muted: true, "aria-label": t("video.local") })),
    h("div", { class: "actions" },
      h("button", { type: "button", "data-testid": "reverify", hidden: true }, t("video.reverify")),
      h("button", { type: "button", class: "secondary", "data-testid": "leave" }, t("video.leave"))));
}

export function mountVideo(root, visit, role) {
  if (mounted === visit.visit_id) return;
  const open = visit.state === "accepted" || visit.state === "in_progress";
  if (!["video", "audio"].includes(visit.mode) || !open) {
    clear(root);
    return;
  }
  const join = h("button", { type: "button", "data-testid": "join-call" }, t("video.join"));
  join.addEventListener("click", () => {
    mounted = visit.visit_id;
    const call = callNode();
    clear(root, call);
    startCall(call, visit.visit_id);
  });
  clear(root,
    visit.paused ? h("p", { class: "notice warn", "data-testid": "video-paused" }, t("video.paused")) : null,
    h("p", { class: "small muted", "data-testid": "video-hint" }, role === "doctor" ? t("video.doctor_hint") : t("video.patient_hint")),
    h("div", { class: "actions" }, join,
      h("a", { class: "button secondary", href: `/visits/${visit.visit_id}/call`, "data-testid": "video-join" }, t("video.open_page"))));
}
