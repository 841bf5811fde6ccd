// The video consultation inside the visit page: a button to join, then the call (call.js) beside the chat —
// camera and microphone to the hospital's media peer, the other side back, and the hospital's notices
// (the face watch pausing the doctor, FACE-02). Only for a video visit that is accepted or in progress.
import { startCall } from "./call.js";
import { t } from "./i18n.js";
import { clear, h } from "./ui.js";

let mounted = null; // the visit whose call is on this page

function callTexts(role) {
  return { connecting: t("video.connecting"), reconnecting: t("video.reconnecting"), live: t("video.live"),
    pausedDoctor: t("video.paused_doctor"), pausedPatient: t("video.paused_patient"), ended: t("video.ended"),
    login: t("video.login") };
}

export function mountVideo(root, visit, role) {
  const open = visit.state === "accepted" || visit.state === "in_progress";
  if (mounted === visit.visit_id) return; // the call runs on; it ends itself when the visit ends
  if (visit.mode !== "video" || !open) {
    clear(root);
    return;
  }
  const join = h("button", { type: "button", "data-testid": "join-call" }, t("video.join"));
  join.addEventListener("click", () => {
    mounted = visit.visit_id;
    const call = h("div", { class: "call", "data-call-state": "loading", "data-testid": "call" },
      h("p", { "data-testid": "call-status", role: "status", "aria-live": "polite" }, t("video.connecting")),
      h("p", { "data-testid": "call-notice", role: "alert", hidden: true }),
      h("div", { class: "call-videos" },
        h("video", { "data-testid": "remote-video", autoplay: true, playsinline: true, "aria-label": t("video.remote") }),
        h("video", { "data-testid": "local-video", autoplay: true, playsinline: true, muted: true, "aria-label": t("video.local") })),
      h("div", { class: "actions" },
        h("button", { type: "button", "data-testid": "reverify", hidden: true }, t("video.reverify")),
        h("button", { type: "button", class: "secondary", "data-testid": "leave" }, t("video.leave"))));
    clear(root, call);
    startCall(call, visit.visit_id, callTexts(role));
  });
  clear(root, h("p", { class: "small muted" }, t("video.intro")), h("div", { class: "actions" }, join));
}
