// Every upcoming schedule, as patients and the disclosure page see them (REV-06).
import { api } from "../api.js";
import { startPage } from "../page.js";
import { scheduleTable } from "../schedules.js";
import { $, load } from "../ui.js";

await startPage({ role: "admin" });
await load($("#schedules"), () => api("/api/schedules/", { auth: false }), scheduleTable);
