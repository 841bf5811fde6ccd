// Every prescription of the patient with its review state and delivery tracking (RX-06, RX-08).
import { api } from "../api.js";
import { startPage } from "../page.js";
import { prescriptionList } from "../prescriptions.js";
import { $, load } from "../ui.js";

await startPage({ role: "patient" });
await load($("#prescriptions"), () => api("/api/prescriptions"), (list) => prescriptionList(list, "patient", 2));
