// The doctor's queue of the day: booked visits in order, each opening the visit view.
import { api } from "../api.js";
import { formatTime, label, t } from "../i18n.js";
import { startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { $, badge, h, load, table } from "../ui.js";

await startPage({ role: "doctor" });
showPracticeSession($("#practice"), "doctor");

function render(visits) {
  if (!visits.length) return h("p", { class: "empty" }, t("queue.empty"));
  return table(null, [t("queue.number"), t("queue.time"), t("queue.patient"), t("queue.department"), t("queue.mode"),
    t("queue.state"), ""], visits.map((v) => [
    String(v.queue_number), formatTime(v.starts_at), v.patient ? `${v.patient.real_name}` : "—",
    v.department_name || v.department_code, label("mode", v.mode), badge(label("state", v.state)),
    h("a", { class: "button secondary", href: `/doctor/visits/${v.visit_id}` }, t("queue.open")),
  ]));
}

async function refresh() {
  await load($("#queue"), () => api("/api/doctor/queue"), render);
}
$("#refresh").addEventListener("click", refresh);
await refresh();
