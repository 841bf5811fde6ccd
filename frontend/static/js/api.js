// The one way pages talk to the hospital: JSON in and out, the bearer token, and every refusal as an ApiError
// carrying the problem details (title, detail, rule_id) so the page can show it. Nothing fails silently.
import { lang, t } from "./i18n.js";
import { clearSession, currentSession, renewalInFlight } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.ruleId = problem.rule_id || null;
    this.requestId = problem.request_id || null;
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) return await response.json();
    const text = await response.text();
    return { title: `HTTP ${response.status}`, detail: text.slice(0, 300) };
  } catch {
    return { title: `HTTP ${response.status}`, detail: response.statusText };
  }
}

/**
 * Call the API. `json` sends a JSON body, `form` a FormData (multipart); `auth: false` sends no token.
 * Resolves to the parsed body (null for 204); rejects with ApiError.
 */
export async function api(path, options = {}) {
  const { method = "GET", json, form, auth = true, signal, retried = false } = options;
  const pending = renewalInFlight();
  if (auth && pending) await pending; // the token a renewal replaces is refused from then on (SEC-01)
  // Refusals come back in the page's language (title, detail: issue 14).
  const headers = { Accept: "application/json, application/problem+json", "Accept-Language": lang };
  const session = currentSession();
  if (auth && session) headers.Authorization = `Bearer ${session.token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, credentials: "same-origin" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { title: t("error.network"), detail: t("error.network_detail") });
  }
  if (response.status === 401 && auth) {
    const problem = await problemOf(response);
    const now = currentSession();
    if (problem.reason === "replaced" && !retried && now && session && now.token !== session.token) {
      return api(path, { ...options, retried: true }); // renewed while this call was on its way: once more
    }
    clearSession();
    throw new ApiError(401, { ...problem, title: t("error.session_expired"), code: "session_expired" });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** A binary resource (a document the API serves with the bearer token), as a Blob. */
export async function apiBlob(path) {
  const pending = renewalInFlight();
  if (pending) await pending;
  const session = currentSession();
  let response;
  try {
    const headers = { "Accept-Language": lang };
    if (session) headers.Authorization = `Bearer ${session.token}`;
    response = await fetch(path, { headers });
  } catch {
    throw new ApiError(0, { title: t("error.network"), detail: t("error.network_detail") });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response.blob();
}
