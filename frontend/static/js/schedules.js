// Published schedules (REV-06) as a table.
import { formatDateTime, formatTime, joinList, label, money, t } from "./i18n.js";
import { h, table } from "./ui.js";

export function scheduleTable(schedules) {
  if (!schedules.length) return h("p", { class: "empty" }, t("disclosure.no_schedules"));
  return table(null, [t("disclosure.when"), t("disclosure.department"), t("disclosure.doctor"), t("disclosure.modes"),
    t("disclosure.price"), t("schedules.booked"), t("disclosure.remaining")], schedules.map((s) => [
    `${formatDateTime(s.starts_at)}–${formatTime(s.ends_at)}`, s.department_name, `${s.doctor_name || ""} ${s.doctor_title || ""}`,
    joinList(s.modes.map((m) => label("mode", m))),
    // each mode at the disclosure's fee (INS-03): the schedule has no price of its own
    joinList(s.modes.filter((m) => s.prices[m]).map((m) => `${label("mode", m)} ${money(s.prices[m])}`)),
    `${s.booked}/${s.capacity}`, String(s.free_places),
  ]), { numeric: [5, 6], label: t("journey.schedules_table") });
}
