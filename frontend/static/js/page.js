// What every page does first: global error reporting, the language switch, log-out, and the role check.
import { api } from "./api.js";
import { sayOnLanguage, setupLanguageSwitch, t } from "./i18n.js";
import { clearSession, currentSession, keepSessionRenewed, toLogin } from "./session.js";
import { errorNode } from "./ui.js";

function reportUnexpected(error) {
  const area = document.getElementById("page-error");
  if (!area) return;
  area.hidden = false;
  area.replaceChildren(errorNode(error instanceof Error ? error : new Error(String(error))));
}

/**
 * Start the page. With `role`, a visitor who is not logged in with that role is sent to log in.
 * Resolves to the session (or null on public pages).
 */
export async function startPage({ role = null, showWho = true } = {}) {
  window.addEventListener("error", (event) => reportUnexpected(event.error || event.message));
  window.addEventListener("unhandledrejection", (event) => reportUnexpected(event.reason));
  setupLanguageSwitch();
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      const current = currentSession();
      if (current && current.token) {
        try { // end the session on the server (SEC-01): the token and its renewals are refused from now on
          await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${current.token}` } });
        } catch {
          // offline: the token still expires with its TTL
        }
      }
      clearSession();
      location.assign("/login");
    });
  }
  const session = currentSession();
  if (role) {
    if (!session || session.role !== role) {
      toLogin(session ? "wrong_role" : "login_required");
      return new Promise(() => {}); // the page is leaving; nothing more runs
    }
    if (showWho) {
      fillWho();
      sayOnLanguage(fillWho); // a page that switched language in place says who is logged in again
    }
  }
  if (session) keepSessionRenewed();
  return session;
}

let me = null;

async function fillWho() {
  const who = document.getElementById("who");
  if (!who) return;
  try {
    me = me || await api("/api/me");
    who.textContent = t("header.who", { name: me.display_name, role: t(`role.${me.role}`) });
  } catch (error) {
    if (error.status === 401) toLogin("session_expired");
    else reportUnexpected(error);
  }
}

export function params() {
  return new URLSearchParams(location.search);
}

/** The last path segment, e.g. the visit id of /patient/visits/<id>. */
export function pathId() {
  return location.pathname.split("/").filter(Boolean).pop();
}
