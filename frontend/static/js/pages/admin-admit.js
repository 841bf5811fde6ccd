// Admit a clinician (STAFF-01/02) with credentials and a photo that enrols the face (FACE-01).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, bindForm, clear, field, h, load } from "../ui.js";

await startPage({ role: "admin" });
const form = $("#admit-form");

// The certificates each kind must hold (hospital/staff/rules.py); qualifications do not expire.
const CREDENTIALS = {
  doctor: [["physician_qualification", false], ["physician_practice", true]],
  pharmacist: [["pharmacist_qualification", true]],
  nurse: [["nurse_qualification", false], ["nurse_practice", true]],
};

function credentialFields(kind) {
  return CREDENTIALS[kind].map(([credential, expires]) => h("div", { class: "credential", "data-credential": credential },
    field(`cred-${credential}`, t(`credential.${credential}`), h("input", { required: true, maxlength: 64, autocomplete: "off" })),
    expires ? field(`cred-${credential}-until`, t("admit.valid_until", { name: t(`credential.${credential}`) }),
      h("input", { type: "date", required: true })) : null));
}

function showKind() {
  const kind = form.elements.kind.value;
  clear($("#credential-fields"), credentialFields(kind));
  form.querySelectorAll("[data-kind]").forEach((el) => { el.hidden = el.dataset.kind !== kind; });
}
form.elements.kind.addEventListener("change", showKind);
showKind();

await load($("#department-options"), () => api("/api/institution/", { auth: false }), (institution) =>
  institution.departments.map((d) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "departments", value: d.code }), `${d.name}（${d.code}）`)));

form.elements.photo.addEventListener("change", () => {
  const preview = $("#photo-preview");
  const file = form.elements.photo.files[0];
  preview.hidden = !file;
  if (file) preview.src = URL.createObjectURL(file);
});

bindForm(form, async (data) => {
  const kind = data.get("kind");
  const application = {
    kind, username: data.get("username").trim(), initial_password: data.get("initial_password"),
    real_name: data.get("real_name").trim(), id_number: data.get("id_number").trim().toUpperCase(),
    title: data.get("title").trim(), clinical_years: Number(data.get("clinical_years")),
    departments: data.getAll("departments"),
    credentials: CREDENTIALS[kind].map(([credential, expires]) => ({
      kind: credential, number: $(`#cred-${credential}`).value.trim(),
      valid_until: expires ? $(`#cred-${credential}-until`).value : null,
    })),
  };
  if (kind === "doctor") {
    for (const name of ["practice_category", "practice_scope", "practice_institution"]) application[name] = data.get(name).trim();
  }
  const body = new FormData();
  body.append("application", JSON.stringify(application));
  body.append("photo", form.elements.photo.files[0]);
  const member = await api("/api/staff/", { method: "POST", form: body });
  location.assign(`/admin?admitted=${encodeURIComponent(member.real_name)}`);
});
