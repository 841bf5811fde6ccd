import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { homeOf } from "../session.js";
import { $, clear, h } from "../ui.js";

const session = await startPage();
if (session) {
  const area = $("#continue");
  area.hidden = false;
  clear(area, h("p", { class: "notice" }, t("home.logged_in", { role: t(`role.${session.role}`) }), " ",
    h("a", { href: homeOf(session.role) }, t("home.continue"))));
}
