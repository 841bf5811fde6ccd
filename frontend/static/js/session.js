// The logged-in user of this tab: bearer token and role in sessionStorage (gone when the tab closes).
const KEY = "hospital.session";

export function currentSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    const value = raw ? JSON.parse(raw) : null;
    if (value && value.expires_at && Date.now() > value.expires_at) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

export function saveSession({ access_token, role, expires_in }, extra = {}) {
  const value = { ...extra, token: access_token, role, expires_at: Date.now() + (expires_in || 900) * 1000 };
  sessionStorage.setItem(KEY, JSON.stringify(value));
  return value;
}

/** Replace the token (a face verification issues one carrying the practice session), keeping the role. */
export function replaceToken(access_token, expires_in, extra = {}) {
  const { token: _old, expires_at: _oldExpiry, ...current } = currentSession() || {};
  return saveSession({ access_token, role: current.role, expires_in }, { ...current, ...extra });
}

let renewing = null;

/** The renewal in flight, if any: API calls wait for it, since the server refuses the token it replaces (SEC-01). */
export function renewalInFlight() {
  return renewing;
}

/**
 * Keep this tab's token fresh: a few minutes before it expires, ask for a new one (a video call or a long
 * review outlives one token). The server keeps the log-in time, so the session still ends after its maximum
 * length, and it carries a face verification only with its own time (FACE-02/03 windows are not extended).
 */
export function keepSessionRenewed({ every = 60_000, margin = 180_000 } = {}) {
  const tick = async () => {
    if (renewing) return renewing;
    renewing = renew().finally(() => { renewing = null; });
    return renewing;
  };
  const renew = async () => {
    const current = currentSession();
    if (!current || !current.token || current.expires_at - Date.now() > margin) return;
    try {
      const response = await fetch("/api/auth/renew", {
        method: "POST",
        headers: { Accept: "application/json", Authorization: `Bearer ${current.token}` },
        credentials: "same-origin",
      });
      if (!response.ok) return; // the next API call meets the 401 and sends the user to log in
      const renewed = await response.json();
      replaceToken(renewed.access_token, renewed.expires_in, { face_verified_at: renewed.face_verified_at });
    } catch {
      // offline for now: the next tick tries again
    }
  };
  tick();
  return setInterval(tick, every);
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

export const HOMES = {
  patient: "/patient",
  doctor: "/doctor/verify",
  pharmacist: "/pharmacist/verify",
  admin: "/admin",
  nurse: "/",
};

export function homeOf(role) {
  return HOMES[role] || "/";
}

/** Only same-site paths are followed after log-in (no open redirect). */
export function safeNext(next) {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : null;
}

export function toLogin(reason) {
  const here = location.pathname + location.search;
  const url = new URL("/login", location.origin);
  url.searchParams.set("next", here);
  if (reason) url.searchParams.set("reason", reason);
  location.assign(url.toString());
}
