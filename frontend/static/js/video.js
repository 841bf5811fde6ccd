// The video consultation. The hospital's media peer (signalling API) is not on main yet: say so plainly.
import { t } from "./i18n.js";
import { clear, h } from "./ui.js";

export function mountVideo(root, visit) {
  const open = visit.state === "accepted" || visit.state === "in_progress";
  if (visit.mode !== "video" || !open) {
    clear(root);
    return;
  }
  clear(root, h("p", { class: "notice warn", "data-testid": "video-pending" }, t("video.pending")));
}
