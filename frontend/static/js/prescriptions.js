// Prescriptions of a visit. The prescriptions API (writing, signing, review, dispensing) is not on main yet.
import { t } from "./i18n.js";
import { clear, h } from "./ui.js";

export function mountPrescriptions(root) {
  clear(root, h("p", { class: "notice warn", "data-testid": "prescriptions-pending" }, t("rx.pending_api")));
}
