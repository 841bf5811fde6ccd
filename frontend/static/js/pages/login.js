import { api } from "../api.js";
import { t } from "../i18n.js";
import { params, startPage } from "../page.js";
import { clearSession, homeOf, safeNext, saveSession } from "../session.js";
import { $, bindForm, notice } from "../ui.js";

await startPage();
const reason = params().get("reason");
if (reason) notice($("#login-reason"), t(`login.reason.${reason}`), "warn");

bindForm($("#login-form"), async (data) => {
  clearSession();
  const issued = await api("/api/auth/login", {
    method: "POST", auth: false, json: { username: data.get("username").trim(), password: data.get("password") },
  });
  saveSession(issued);
  const next = safeNext(params().get("next"));
  const wanted = next && next.startsWith(`/${issued.role}`) && !next.includes("/verify") ? next : null;
  const home = homeOf(issued.role);
  // A clinician's pages need a practice session: face verification comes first (FACE-02), then the page.
  const clinician = issued.role === "doctor" || issued.role === "pharmacist";
  location.assign(clinician ? (wanted ? `${home}?next=${encodeURIComponent(wanted)}` : home) : (wanted || home));
});
