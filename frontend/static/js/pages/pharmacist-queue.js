// The pharmacist's review queue (RX-06). The prescriptions API is not on main yet: the page says so.
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { showPracticeSession } from "../practice.js";
import { $, clear, h } from "../ui.js";

await startPage({ role: "pharmacist" });
showPracticeSession($("#practice"), "pharmacist");
clear($("#reviews"), h("p", { class: "notice warn" }, t("review.pending_api")));
