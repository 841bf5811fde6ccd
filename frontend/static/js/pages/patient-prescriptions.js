// Every prescription of the patient with its review state and delivery tracking (RX-06, RX-08); until it is
// dispensed, the patient chooses pick-up at the pharmacy or delivery to a mainland address (RX-08).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { startPage } from "../page.js";
import { prescriptionCard } from "../prescriptions.js";
import { $, bindForm, field, h, load, notice } from "../ui.js";

// The mainland's provincial-level divisions, as hospital/prescriptions/rules.py MAINLAND_PROVINCES accepts them.
const PROVINCES = ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市",
  "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
  "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区",
  "新疆维吾尔自治区"];

function fulfilmentForm(rx) {
  const id = rx.prescription_id;
  const current = rx.fulfilment || { method: "pickup" };
  const radio = (value) => h("label", { class: "choice" }, h("input", { type: "radio", name: `method-${id}`, value,
    ...(current.method === value ? { checked: true } : {}) }), " ", t(`delivery.${value}`));
  const province = h("select", {}, h("option", { value: "" }, t("delivery.province_choose")),
    PROVINCES.map((p) => h("option", { value: p }, p)));
  const inputs = {
    city: h("input", { maxlength: 50, autocomplete: "address-level2" }),
    district: h("input", { maxlength: 50, autocomplete: "address-level3" }),
    detail: h("input", { maxlength: 200, autocomplete: "street-address" }),
    recipient: h("input", { maxlength: 50, autocomplete: "name" }),
    mobile: h("input", { type: "tel", maxlength: 11, pattern: "1[3-9][0-9]{9}", inputmode: "numeric", autocomplete: "tel-national" }),
    postcode: h("input", { maxlength: 6, pattern: "[0-9]{6}", inputmode: "numeric", autocomplete: "postal-code" }),
  };
  const address = h("fieldset", { class: "address", "data-testid": "address" }, h("legend", {}, t("delivery.delivery")),
    field(`province-${id}`, t("delivery.province"), province),
    h("div", { class: "grid-2" }, field(`city-${id}`, t("delivery.city"), inputs.city),
      field(`district-${id}`, t("delivery.district"), inputs.district)),
    field(`detail-${id}`, t("delivery.detail"), inputs.detail),
    h("div", { class: "grid-2" }, field(`recipient-${id}`, t("delivery.recipient"), inputs.recipient),
      field(`mobile-${id}`, t("delivery.mobile"), inputs.mobile, t("delivery.mobile_hint"))),
    field(`postcode-${id}`, t("delivery.postcode"), inputs.postcode));
  const chosen = () => form.querySelector(`input[name="method-${id}"]:checked`)?.value || "pickup";
  const form = h("form", { "data-testid": "fulfilment-form" },
    h("fieldset", {}, h("legend", {}, t("delivery.method")), radio("pickup"), radio("delivery")), address,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("delivery.save"))));
  const toggle = () => {
    const delivery = chosen() === "delivery";
    address.hidden = !delivery;
    for (const [name, control] of [["province", province], ...Object.entries(inputs)]) {
      control.required = delivery && name !== "postcode";
    }
  };
  form.addEventListener("change", toggle);
  toggle();
  bindForm(form, async () => {
    const method = chosen();
    const json = { method };
    if (method === "delivery") {
      json.address = { province: province.value, postcode: inputs.postcode.value.trim() || null };
      for (const name of ["city", "district", "detail", "recipient", "mobile"]) json.address[name] = inputs[name].value.trim();
    }
    await api(`/api/prescriptions/${id}/fulfilment`, { method: "PUT", json });
    notice($("#prescriptions-notice"), t("delivery.saved"));
    await refresh();
  });
  // once chosen, the form folds away: the list shows the address masked and the form does not refill it (SEC-01)
  const body = rx.fulfilment && rx.fulfilment.chosen_at
    ? h("details", {}, h("summary", {}, t("delivery.change")), form) : form;
  return h("section", { class: "fulfilment-choice" }, h("h3", {}, t("delivery.heading")), body);
}

function card(rx) {
  const node = prescriptionCard(rx, "patient", 2);
  const open = !rx.dispensing && (rx.status === "approved" || rx.status === "pending_review") && !rx.superseded_by_id;
  if (open) node.append(fulfilmentForm(rx));
  return node;
}

async function refresh() {
  await load($("#prescriptions"), () => api("/api/prescriptions"),
    (list) => (list.length ? list.map(card) : h("p", { class: "empty" }, t("rx.none"))));
}

await startPage({ role: "patient" });
await refresh();
