// The consent text in force (PAT-02): its version and fingerprint, rendered as patients read it. Versions are
// reviewed files (hospital/visits/intake/data/consent/consent_v<N>.<lang>.md); a new version asks every patient again.
import { api } from "../api.js";
import { isEnglish, t } from "../i18n.js";
import { renderMarkdown } from "../markdown.js";
import { startPage } from "../page.js";
import { $, clear, h, showError, showLoading } from "../ui.js";

await startPage({ role: "admin" });
showLoading($("#consent-text"));
try {
  const consent = await api("/api/consent/", { auth: false });
  clear($("#consent-facts"), h("dl", { class: "facts" },
    h("dt", {}, t("consent_admin.version")), h("dd", { "data-testid": "consent-version" }, consent.version),
    h("dt", {}, t("consent_admin.sha")), h("dd", {}, h("code", {}, consent.text_sha256))));
  $("#consent-text").removeAttribute("aria-busy");
  clear($("#consent-text"), renderMarkdown(isEnglish ? consent.en : consent.zh));
} catch (error) {
  showError($("#consent-text"), error);
}
