// Visits as the patient sees them: a list linking to each visit.
import { formatDateTime, label, pick, t } from "./i18n.js";
import { badge, h } from "./ui.js";

const STATE_KIND = { requested: "warn", accepted: "ok", in_progress: "ok", completed: "", terminated: "bad", cancelled: "" };

export function stateBadge(state) {
  return badge(label("state", state), STATE_KIND[state] || "");
}

export function visitList(visits) {
  if (!visits.length) return h("p", { class: "empty" }, t("patient.no_visits"));
  return h("ul", { class: "list" }, visits.map((v) => h("li", {},
    h("div", { class: "row" }, h("a", { href: `/patient/visits/${v.visit_id}` }, `${v.department_name || v.department_code} · ${v.doctor_name || ""}`),
      stateBadge(v.state)),
    h("small", { class: "muted" }, `${formatDateTime(v.starts_at)} · ${label("mode", v.mode)}`),
    visitNotice(v))));
}

// A notice the hospital sent about this visit (停诊: the schedule was withdrawn and the booking cancelled, REV-06).
export function visitNotice(v) {
  if (!v.notice) return null;
  return h("p", { class: "notice warn", role: "status", "data-testid": "visit-notice" }, pick(v.notice));
}
