// The patient's home: who they are (masked), what to do next, their visits and complaints.
import { api } from "../api.js";
import { formatDateTime, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, clear, h, load } from "../ui.js";
import { visitList } from "../visits.js";

await startPage({ role: "patient" });

load($("#me"), () => api("/api/me"), (me) => {
  const p = me.patient || {};
  return h("dl", { class: "facts" },
    h("dt", {}, t("register.real_name")), h("dd", {}, p.real_name || me.display_name),
    h("dt", {}, t("register.id_number")), h("dd", {}, p.id_number || "—"),
    h("dt", {}, t("register.phone")), h("dd", {}, p.phone || "—"),
    h("dt", {}, t("patient.age")), h("dd", {}, p.age !== undefined ? t("patient.age_value", { age: p.age }) : "—"));
});

const visits = load($("#visits"), () => api("/api/visits"), visitList);

// Progress: which of the steps are done (issue 14), each read from the patient's own records.
async function showProgress() {
  const [consent, priors, mine, prescriptions] = await Promise.all([
    api("/api/consent/acceptances").catch(() => null), api("/api/prior-diagnoses/").catch(() => null),
    visits, api("/api/prescriptions").catch(() => null)]);
  const list = mine || [];
  const done = {
    consent: consent && consent.current_accepted,
    diagnosis: priors && priors.length > 0,
    booking: list.some((v) => v.state !== "cancelled"),
    visit: list.some((v) => ["completed", "terminated"].includes(v.state)),
    rx: prescriptions && prescriptions.length > 0,
  };
  let next = true;
  for (const item of document.querySelectorAll("#steps li")) {
    const state = done[item.dataset.step] ? "done" : next ? "next" : "todo";
    if (state === "next") next = false;
    item.dataset.state = state;
    clear(item.querySelector(".step-state"), state === "done" ? badge(t("journey.step_done"), "ok")
      : state === "next" ? badge(t("journey.step_next"), "warn") : null);
    if (state === "next") item.querySelector("a").setAttribute("aria-current", "step");
  }
}
showProgress();

load($("#complaints"), () => api("/api/complaints"), (complaints) => complaints.length
  ? h("ul", { class: "list" }, complaints.map((c) => h("li", {},
    h("div", { class: "row" }, h("strong", {}, label("complaint", c.category)),
      badge(label("complaint_status", c.status), c.status === "open" ? "warn" : "ok")),
    h("p", {}, c.description),
    c.response ? h("p", { class: "notice" }, t("patient.complaint_response", { response: c.response })) : null,
    h("small", { class: "muted" }, formatDateTime(c.filed_at)))))
  : h("p", { class: "empty" }, t("patient.no_complaints")));
