// The doctor's queue of a day (default today, China time) and every visit still open, each opening the visit.
import { api } from "../api.js";
import { formatDateTime, formatTime, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { $, h, load, table } from "../ui.js";
import { stateBadge } from "../visits.js";

await startPage({ role: "doctor" });
showPracticeSession($("#practice"), "doctor");
const day = $("#day");
day.value = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

let waiting = new Map(); // visit id → the patient waiting in the call (GET /api/doctor/call-waiting)

function waitingCell(v) {
  const w = waiting.get(v.visit_id);
  return w ? h("span", { class: "badge warn", "data-testid": "waiting-in-call" },
    t("queue.waiting_call", { minutes: Math.max(1, Math.round(w.waited_s / 60)) })) : "";
}

function rows(visits, withDate) {
  return visits.map((v) => [
    v.queue ? `${v.queue_number} · ${t("queue.position", { position: v.queue.position })}` : String(v.queue_number), withDate ? formatDateTime(v.starts_at) : formatTime(v.starts_at),
    `${v.patient.name}（${label("sex", v.patient.sex)}，${t("patient.age_value", { age: v.patient.age })}）`,
    `${v.prior_diagnosis.diagnosis_name}（${v.prior_diagnosis.icd10_code}）`, v.department_name, label("mode", v.mode),
    stateBadge(v.state), waitingCell(v), h("a", { class: "button secondary", href: `/doctor/visits/${v.visit_id}` }, t("queue.open")),
  ]);
}

const HEAD = () => [t("queue.number"), t("queue.time"), t("queue.patient"), t("queue.diagnosis"), t("queue.department"),
  t("queue.mode"), t("queue.state"), t("queue.call"), t("journey.action")];  // no empty header (axe)

async function refresh() {
  try {
    waiting = new Map((await api("/api/doctor/call-waiting")).map((w) => [w.visit_id, w]));
  } catch {
    waiting = new Map();
  }
  await Promise.all([
    load($("#queue"), () => api(`/api/doctor/queue?day=${encodeURIComponent(day.value)}`), (visits) => visits.length
      ? table(null, HEAD(), rows(visits, false)) : h("p", { class: "empty" }, t("queue.empty"))),
    load($("#open-visits"), () => api("/api/visits/"), (visits) => {
      const open = visits.filter((v) => ["requested", "accepted", "in_progress"].includes(v.state));
      return open.length ? table(null, HEAD(), rows(open, true)) : h("p", { class: "empty" }, t("queue.no_open"));
    }),
  ]);
}
$("#refresh").addEventListener("click", refresh);
day.addEventListener("change", refresh);
await refresh();
setInterval(refresh, 30_000); // who waits, and how long, stays current
