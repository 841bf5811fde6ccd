import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { clearSession, saveSession } from "../session.js";
import { $, bindForm } from "../ui.js";

await startPage();
const form = $("#register-form");
form.elements.password2.addEventListener("input", (event) => {
  event.target.setCustomValidity(event.target.value === form.elements.password.value ? "" : t("register.password_mismatch"));
});

bindForm(form, async (data) => {
  const phone = data.get("phone").trim();
  await api("/api/patients/", {
    method: "POST", auth: false,
    json: { real_name: data.get("real_name").trim(), id_number: data.get("id_number").trim().toUpperCase(), phone,
      password: data.get("password") },
  });
  clearSession();
  saveSession(await api("/api/auth/login", { method: "POST", auth: false, json: { username: phone, password: data.get("password") } }));
  // Consent comes before anything else the patient does (PAT-02).
  location.assign("/patient/consent?welcome=1");
});
