// The clinician's practice session (FACE-02): shown on every clinician page, with the way to renew it.
import { api } from "./api.js";
import { formatTime, t } from "./i18n.js";
import { clear, h, showError } from "./ui.js";

/** Fill `el` with the practice session's state; resolves to the session or null when there is none. */
export async function showPracticeSession(el, area) {
  try {
    const practice = await api("/api/me/practice-session");
    const until = new Date(Date.parse(practice.face_verified_at) + practice.window_seconds * 1000).toISOString();
    clear(el, h("div", { class: "notice", "data-testid": "practice-session" },
      t("practice.active", { from: formatTime(practice.face_verified_at), until: formatTime(until) })));
    return practice;
  } catch (error) {
    if (error.status === 403) {
      clear(el, h("div", { class: "notice warn", role: "alert", "data-testid": "practice-session" },
        t("practice.none"), " ", h("a", { href: `/${area}/verify?next=${encodeURIComponent(location.pathname)}` }, t("practice.verify_now"))));
    } else {
      showError(el, error);
    }
    return null;
  }
}
