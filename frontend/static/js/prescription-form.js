// The doctor writes and signs a prescription in the visit (RX-01 … RX-05, RX-07, FACE-03). The prescription rules
// run on the server first as a dry run (POST …/check): a blocking finding is listed here, beside the form, and
// nothing is signed; warnings are shown before signing and kept for the pharmacist. Signing sends the draft with
// the hash the dry run returned for it.
import { api } from "./api.js";
import { signedPost } from "./signing-device.js";
import { label, money, t } from "./i18n.js";
import { findingsNode, prescriptionList, safetyContextNode } from "./prescriptions.js";
import { safetyFields } from "./safety-form.js";
import { bindForm, clear, field, h, load, showError } from "./ui.js";

let formulary = null;

async function drugs() {
  formulary = formulary || await api("/api/formulary/", { auth: false });
  return formulary;
}

const amount = (text) => Number.parseFloat(String(text));

/** Packs enough for the course: doses × times a day × days (every `interval` days) in dispensing units. */
function suggestedPacks(drug, item) {
  const dose = amount(item.dose_per_time);
  if (!drug || !(dose > 0)) return null;
  const strength = amount(drug.strength);
  const perDose = drug.dose_unit === drug.strength.split(" ")[1] ? dose / strength : dose;
  const units = perDose * item.times_per_day * Math.ceil(item.days_supply / Math.max(1, item.interval_days));
  return Math.max(1, Math.ceil(units / amount(drug.pack)));
}

let counter = 0;
const EXTRA_QUANTITY_REASONS = ["spare_device", "dose_titration", "prn_reserve", "opened_pack_stability"];

function itemFieldset(list, initial = {}) {
  const n = ++counter;
  const select = h("select", { required: true },
    h("option", { value: "" }, t("rxform.choose_drug")),
    h("optgroup", { label: t("rxform.online") }, list.filter((d) => d.prescribable_online).map((d) =>
      h("option", { value: d.code }, `${d.name_zh} ${d.strength}（${d.pack}，${money(d.price_cny)}）`))),
    h("optgroup", { label: t("rxform.not_online") }, list.filter((d) => !d.prescribable_online).map((d) =>
      h("option", { value: d.code }, `${d.name_zh} ${d.strength}`))));
  const dose = h("input", { type: "number", min: "0", step: "any", required: true, inputmode: "decimal" });
  const times = h("input", { type: "number", min: "1", max: "24", required: true, value: "1" });
  const days = h("input", { type: "number", min: "1", max: "366", required: true, value: "7" });  // 处方管理办法 第十九条
  const packs = h("input", { type: "number", min: "1", max: "1000", required: true });
  // RX-03: the usage is required, its route first (the platform's orderList[].admission)
  const usage = h("input", { maxlength: 200, required: true, placeholder: t("rxform.usage_example") });
  // RX-03: one pack more than dose × days only with a coded reason, which the pharmacist sees
  const extra = h("select", { "data-testid": "rx-extra-reason" }, h("option", { value: "" }, t("rxform.extra_none")),
    EXTRA_QUANTITY_REASONS.map((code) => h("option", { value: code }, t(`rxform.extra.${code}`))));
  const hint = h("span", { class: "hint", "aria-live": "polite" });
  const remove = h("button", { type: "button", class: "secondary" }, t("rxform.remove"));
  let packsEdited = false;
  const box = h("fieldset", { class: "rx-item", "data-testid": "rx-item" }, h("legend", {}, t("rxform.item", { n })),
    field(`rx-drug-${n}`, t("rx.drug"), select),
    h("div", { class: "grid-2" }, field(`rx-dose-${n}`, t("rxform.dose_per_time"), dose, hint),
      field(`rx-times-${n}`, t("rxform.times_per_day"), times)),
    h("div", { class: "grid-2" }, field(`rx-days-${n}`, t("rxform.days_supply"), days),
      field(`rx-packs-${n}`, t("rxform.quantity_packs"), packs)),
    field(`rx-usage-${n}`, t("rxform.usage"), usage, t("rxform.usage_hint")),
    field(`rx-extra-${n}`, t("rxform.extra_reason"), extra, t("rxform.extra_hint")),
    h("div", { class: "actions" }, remove));
  const drug = () => list.find((d) => d.code === select.value);
  const item = () => ({ drug_code: select.value, dose_per_time: dose.value, times_per_day: Number(times.value),
    days_supply: Number(days.value), quantity_packs: Number(packs.value), interval_days: 1, usage: usage.value.trim(),
    ...(extra.value ? { extra_quantity_code: extra.value } : {}) });
  function update() {
    const d = drug();
    hint.textContent = d ? t("rxform.dose_hint", { unit: d.dose_unit, max: d.max_daily_dose || "—" }) : "";
    const suggested = suggestedPacks(d, item());
    if (suggested && !packsEdited) packs.value = String(suggested);
  }
  packs.addEventListener("input", () => { packsEdited = true; });
  for (const input of [select, dose, times, days]) input.addEventListener("input", update);
  remove.addEventListener("click", () => { if (box.parentElement.children.length > 1) box.remove(); });
  if (initial.drug_code) {
    select.value = initial.drug_code;
    dose.value = initial.dose_per_time;
    times.value = initial.times_per_day;
    days.value = initial.days_supply;
    packs.value = initial.quantity_packs;
    usage.value = initial.usage || "";
    extra.value = initial.extra_quantity_code || "";
    packsEdited = true;
  }
  update();
  box.item = item;
  return box;
}

/**
 * The patient's safety context (RX-04) beside the form: as stated, and the doctor confirms or corrects it (a new
 * version). Nothing is prescribed while there is no allergy statement.
 */
async function mountSafetyContext(root, visit, open) {
  const shown = h("div", { "aria-live": "polite" });
  clear(root, h("h3", {}, t("safety.heading")), shown);
  let current = null;
  async function show() {
    current = await load(shown, () => api(`/api/visits/${visit.visit_id}/safety-context`), safetyContextNode);
  }
  await show();
  if (!open) return;
  const vocabulary = await api("/api/safety-context/vocabulary");
  const fields = safetyFields(vocabulary, current);
  const form = h("form", { class: "safety-form", "aria-label": t("safety.heading") }, fields.nodes,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, t("safety.save"))));
  bindForm(form, async () => {
    await api(`/api/visits/${visit.visit_id}/safety-context`, { method: "POST", json: { correction: fields.value() } });
    await show();
  });
  root.append(form);
}

/**
 * Mount the doctor's side: the visit's prescriptions, and the form while the visit is open.
 * `visit` is the visit view; `onChange` runs after a signature.
 */
export async function mountDoctorPrescriptions(root, visit, { open }) {
  const listArea = h("div", { "aria-live": "polite" });
  const formArea = h("div");
  const safetyArea = h("section", { class: "safety-context", "data-testid": "safety-panel" });
  clear(root, listArea, safetyArea, formArea);
  await mountSafetyContext(safetyArea, visit, open);

  async function refresh() {
    const list = await load(listArea, () => api(`/api/visits/${visit.visit_id}/prescriptions`), (rxs) => {
      const nodes = prescriptionList(rxs, "doctor");
      return Array.isArray(nodes) ? nodes.map((node, i) => withRevise(node, rxs[i])) : nodes;
    });
    return list;
  }

  function withRevise(node, rx) {
    if (rx.status === "rejected" && !rx.superseded_by_id && open) {
      const button = h("button", { type: "button", class: "secondary" }, t("rxform.revise"));
      button.addEventListener("click", () => showForm(rx));
      node.append(h("div", { class: "actions" }, button));
    }
    return node;
  }

  async function showForm(revisionOf = null) {
    let list;
    try {
      list = await drugs();
    } catch (error) {
      showError(formArea, error);
      return;
    }
    const doc = revisionOf && revisionOf.document;
    const icd = h("input", { required: true, maxlength: 16, value: doc ? doc.diagnoses[0].icd10 : visit.prior_diagnosis.icd10_code });
    const name = h("input", { required: true, maxlength: 100, value: doc ? doc.diagnoses[0].name : visit.prior_diagnosis.diagnosis_name });
    const items = h("div", {}, (doc ? doc.items : [{}]).map((item) => itemFieldset(list, item)));
    const add = h("button", { type: "button", class: "secondary" }, t("rxform.add"));
    add.addEventListener("click", () => items.append(itemFieldset(list)));
    const validity = h("input", { type: "number", min: "1", max: "30", value: String(doc ? doc.validity_days : 1), required: true });
    const longReason = h("input", { maxlength: 500, value: doc && doc.long_prescription_reason ? doc.long_prescription_reason : "" });
    // RX-03: a supply beyond the default days needs a coded reason as well as the note
    const longCode = h("select", {}, h("option", { value: "" }, t("rxform.long_code_none")),
      ["stable_chronic_disease", "elderly_chronic", "limited_mobility", "remote_residence", "treatment_course"].map((code) =>
        h("option", { value: code }, label("long_reason", code))));
    if (doc && doc.long_prescription_code) longCode.value = doc.long_prescription_code;
    const confirmBox = h("input", { type: "checkbox", required: true, id: "rx-confirm" });
    const findingsArea = h("div", { "aria-live": "assertive", "data-testid": "rx-findings" });
    const form = h("form", { class: "rx-form", novalidate: true, "aria-labelledby": "rxform-heading" },
      h("h3", { id: "rxform-heading" }, revisionOf ? t("rxform.revise_heading", { number: revisionOf.prescription_number }) : t("rxform.heading")),
      h("div", { class: "grid-2" }, field("rx-icd10", t("rxform.diagnosis_icd10"), icd), field("rx-diagnosis", t("rxform.diagnosis_name"), name)),
      items, h("div", { class: "actions" }, add),
      h("div", { class: "grid-2" }, field("rx-validity", t("rxform.validity_days"), validity),
        field("rx-long-code", t("rxform.long_code"), longCode)),
      field("rx-long", t("rxform.long_reason"), longReason, t("rxform.long_hint")),
      findingsArea,
      h("label", { class: "check" }, confirmBox, h("span", {}, t("rxform.confirm"))),
      h("div", { class: "actions" }, h("button", { type: "submit" }, t("rxform.sign"))));
    clear(formArea, form);
    // RX-07: the draft is checked first (a dry run: every rule, nothing signed); signing names the hash of that
    // very draft. Blocking findings stop here; warnings are shown and the doctor signs with a second click.
    let checked = null;
    bindForm(form, async () => {
      const body = {
        diagnoses: [{ icd10: icd.value.trim().toUpperCase(), name: name.value.trim() }],
        items: [...items.children].map((box) => box.item()),
        validity_days: Number(validity.value), long_prescription_reason: longReason.value.trim() || null,
        long_prescription_code: longCode.value || null,
      };
      const path = revisionOf ? `/api/prescriptions/${revisionOf.prescription_id}/revisions` : `/api/visits/${visit.visit_id}/prescriptions`;
      const text = JSON.stringify(body);
      if (!checked || checked.text !== text) {
        clear(findingsArea);
        const result = await api(`${path}/check`, { method: "POST", json: body });
        if (!result.signable) {
          clear(findingsArea, findingsNode(result.findings.filter((f) => f.severity === "block"), { heading: t("rxform.refused") }));
          checked = null;
          return;
        }
        checked = { text, hash: result.draft_sha256 };
        if (result.findings.some((f) => f.severity === "warn")) {
          clear(findingsArea, findingsNode(result.findings, { heading: t("rxform.checked_warnings") }));
          return;
        }
        if (result.findings.length) clear(findingsArea, findingsNode(result.findings, { heading: t("rxform.checked") }));
      }
      try {
        // RX-05: this browser's device key signs the payload the hospital prepared for the checked draft.
        const rx = await signedPost(path, { ...body, draft_sha256: checked.hash }, findingsArea);
        clear(formArea, h("div", { class: "notice", role: "status" }, t("rxform.signed", { number: rx.prescription_number })));
        await refresh();
      } catch (error) {
        // The rules refused at signing (the visit changed meanwhile): every finding beside the form, nothing signed.
        checked = null;
        const findings = error.problem && error.problem.findings;
        if (findings) clear(findingsArea, findingsNode(findings, { heading: t("rxform.refused") }));
        throw error;
      }
    });
  }

  const list = await refresh();
  if (open && list && !list.some((rx) => rx.status !== "rejected")) await showForm();
  else if (open) {
    const another = h("button", { type: "button", class: "secondary" }, t("rxform.another"));
    another.addEventListener("click", () => showForm());
    clear(formArea, h("div", { class: "actions" }, another));
  }
  return { refresh };
}
