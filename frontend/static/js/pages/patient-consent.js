// Informed consent (PAT-02): the current text, its version, and the patient's acceptance.
import { api } from "../api.js";
import { formatDateTime, isEnglish, t } from "../i18n.js";
import { renderMarkdown } from "../markdown.js";
import { params, startPage } from "../page.js";
import { $, bindForm, clear, h, load, notice, showError } from "../ui.js";

await startPage({ role: "patient" });
const form = $("#consent-form");
// A new patient is told first that registration succeeded, and what comes next (issue 14: no dead ends).
if (params().get("welcome")) {
  clear($("#welcome"), h("div", { class: "notice", role: "status", "data-testid": "registered" },
    h("strong", {}, t("journey.registered")), " ", t("journey.registered_next")));
}

function showAccepted(acceptance) {
  clear($("#consent-state"), h("div", { class: "notice", role: "status", "data-testid": "consent-accepted" },
    t("consent.accepted", { version: acceptance.version, at: formatDateTime(acceptance.accepted_at) }), " ",
    h("a", { href: "/patient/diagnoses" }, t("consent.next"))));
}

const consent = await load($("#consent-text"), () => api("/api/consent/", { auth: false }), (text) => [
  isEnglish ? h("p", { class: "notice warn" }, t("consent.english_note")) : null,
  renderMarkdown(isEnglish ? text.en : text.zh),
]);

if (consent) {
  $("#consent-version").textContent = t("journey.consent_version", { version: consent.version });
  try {
    const mine = await api("/api/consent/acceptances");
    const current = mine.acceptances.find((a) => a.version === mine.current_version);
    if (current) showAccepted(current);
    else form.hidden = false;
  } catch (error) {
    showError($("#consent-state"), error);
  }
}

bindForm(form, async () => {
  const acceptance = await api("/api/consent/acceptances", { method: "POST", json: { version: consent.version, text_sha256: consent.text_sha256 } });
  form.hidden = true;
  showAccepted(acceptance);
  if (params().get("welcome")) location.assign("/patient/diagnoses?welcome=1");
  else notice($("#consent-state"), t("consent.thanks"));
});
