// The video consultation of a visit: its call page (/visits/{id}/call, frontend/static/js/call.js) opens in
// this tab, so it finds the session the log-in page keeps. Shown while the visit is accepted or in progress.
import { t } from "./i18n.js";
import { clear, h } from "./ui.js";

export function mountVideo(root, visit, role) {
  const open = visit.state === "accepted" || visit.state === "in_progress";
  if (visit.mode !== "video" || !open) {
    clear(root);
    return;
  }
  const hint = role === "doctor" ? t("video.doctor_hint") : t("video.patient_hint");
  clear(
    root,
    visit.paused ? h("p", { class: "notice warn", "data-testid": "video-paused" }, t("video.paused")) : null,
    h("p", { class: "notice", "data-testid": "video-hint" }, hint),
    h("p", {}, h("a", { href: `/visits/${visit.visit_id}/call`, "data-testid": "video-join" }, t("video.join"))),
  );
}
