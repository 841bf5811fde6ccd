// A doctor publishes consultation periods in their departments (REV-06, STAFF-03, INS-02).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, bindForm, clear, h, load, notice, showError } from "../ui.js";
import { scheduleTable } from "../schedules.js";

await startPage({ role: "doctor" });
const form = $("#publish-form");
const tomorrow = new Date(Date.now() + 86400000).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
form.elements.day.value = form.elements.day.min = tomorrow;

try {
  const institution = await api("/api/institution/", { auth: false });
  clear(form.elements.department_code, institution.departments.map((d) => h("option", { value: d.code }, `${d.name}（${d.code}）`)));
} catch (error) {
  showError($("#schedule-notice"), error);
}

async function refresh() {
  const me = await api("/api/me").catch(() => null);
  await load($("#schedules"), () => api("/api/schedules/", { auth: false }),
    (all) => scheduleTable(me ? all.filter((s) => s.doctor_user_id === me.id) : all));
}

// Times are China time (UTC+8), whatever the clinician's computer says.
const at = (day, time) => `${day}T${time}:00+08:00`;

bindForm(form, async (data) => {
  await api("/api/schedules/", { method: "POST", json: {
    department_code: data.get("department_code"), starts_at: at(data.get("day"), data.get("start")),
    ends_at: at(data.get("day"), data.get("end")), capacity: Number(data.get("capacity")), modes: data.getAll("modes") } });
  notice($("#schedule-notice"), t("schedules.published"));
  await refresh();
});
await refresh();
