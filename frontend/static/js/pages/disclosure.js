// The public disclosure (INS-03): rendered from GET /api/institution/disclosure, no log-in needed.
import { api } from "../api.js";
import { formatDate, formatDateTime, formatTime, joinList, label, money, pick, t } from "../i18n.js";
import { startPage } from "../page.js";
import { $, badge, h, load, table } from "../ui.js";

await startPage();

function section(id, title, ...content) {
  return h("section", { class: "card", id, "aria-labelledby": `${id}-heading`, "data-testid": `disclosure-${id}` },
    h("h2", { id: `${id}-heading` }, title), ...content);
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function licence(data) {
  const l = data.licence;
  if (!l) return section("licence", t("disclosure.licence"), h("p", { class: "error-box", role: "alert" }, t("disclosure.no_licence")));
  return section("licence", t("disclosure.licence"), facts([
    [t("disclosure.licence_number"), l.licence_number],
    [t("disclosure.institution_name"), l.institution_name],
    [t("disclosure.internet_name"), l.internet_hospital_name],
    [t("disclosure.issuer"), l.issuer],
    [t("disclosure.validity"), t("disclosure.valid_range", { from: formatDate(l.valid_from), until: formatDate(l.valid_until) })],
    [t("disclosure.status"), data.licence_in_force ? badge(t("disclosure.in_force"), "ok") : badge(t("disclosure.not_in_force"), "bad")],
    [t("disclosure.licence_modes"), joinList(l.service_modes)],
    [t("disclosure.address"), l.address],
    [t("disclosure.legal_representative"), l.legal_representative],
  ]));
}

function departments(data) {
  return section("departments", t("disclosure.departments"),
    data.departments.length
      ? h("ul", {}, data.departments.map((d) => h("li", {}, `${d.name}（${d.code}）`)))
      : h("p", { class: "empty" }, t("disclosure.none")));
}

function clinicians(data) {
  const rows = data.clinicians.map((c) => [
    c.name, c.title, label("kind", c.kind), joinList(c.departments.map((d) => d.name)) || "—",
    // the practice registration with its certificate's validity (INS-03: 执业注册基本情况), from the staff credentials
    c.registration ? h("span", {}, c.registration.number, h("br"), h("small", { class: "muted" }, label("credential", c.registration.kind)),
      c.registration.valid_until ? [h("br"), h("small", { class: "muted" },
        t("disclosure.registration_valid", { until: formatDate(c.registration.valid_until) }))] : null) : "—",
    c.e_credential ? h("span", { class: "e-credential" },
      h("code", { title: c.e_credential.fingerprint_sha256 }, c.e_credential.certificate_serial), h("br"),
      h("small", { class: "muted" }, t("disclosure.e_credential_valid", { until: formatDate(c.e_credential.valid_until) })))
      : h("span", { class: "muted" }, t("disclosure.e_credential_pending")),
  ]);
  return section("clinicians", t("disclosure.clinicians"),
    rows.length ? table(null, [t("disclosure.name"), t("disclosure.title"), t("disclosure.kind"), t("disclosure.clinician_departments"),
      t("disclosure.registration"), t("disclosure.e_credential")], rows) : h("p", { class: "empty" }, t("disclosure.none")),
    h("p", { class: "small muted" }, t("disclosure.e_credential_note")));
}

function service(data) {
  return section("service", t("disclosure.service"),
    h("h3", {}, t("disclosure.hours")),
    h("ul", {}, data.service_hours.map((s) => h("li", {}, `${pick(s.days)} ${s.opens}–${s.closes}`))),
    h("h3", {}, t("disclosure.modes")),
    h("ul", {}, data.service_modes.map((m) => h("li", { "data-mode": m.code }, pick(m.name)))),
    h("h3", {}, t("disclosure.reply_limits")),
    h("ul", {}, data.reply_time_limits.map((r) => h("li", { "data-mode": r.mode }, pick(r.text)))));
}

function schedules(data) {
  const rows = data.schedules.map((s) => [
    `${formatDateTime(s.starts_at)}–${formatTime(s.ends_at)}`, s.department, `${s.doctor} ${s.title}`,
    joinList(s.modes.map((m) => label("mode", m))),
    joinList(s.modes.filter((m) => s.prices[m]).map((m) => `${label("mode", m)} ${money(s.prices[m])}`)), String(s.remaining),
  ]);
  return section("schedules", t("disclosure.schedules"),
    rows.length ? table(null, [t("disclosure.when"), t("disclosure.department"), t("disclosure.doctor"), t("disclosure.modes"),
      t("disclosure.price"), t("disclosure.remaining")], rows, { numeric: [4, 5] })
      : h("p", { class: "empty" }, t("disclosure.no_schedules")));
}

function prices(data) {
  const services = data.prices.services.map((p) => [pick(p.name), `${money(p.price_cny)} / ${pick(p.unit)}`, pick(p.basis)]);
  const drugs = data.prices.drugs.map((d) => [h("span", {}, d.name_zh, h("br"), h("small", { class: "muted" }, d.generic_name)),
    `${d.strength} × ${d.pack_size}${label("unit", d.dispensing_unit)}`, money(d.price_cny)]);
  return section("prices", t("disclosure.prices"),
    table(t("disclosure.service_prices"), [t("disclosure.item"), t("disclosure.price"), t("disclosure.basis")], services, { numeric: [1] }),
    h("p"),
    table(t("disclosure.drug_prices"), [t("disclosure.drug"), t("disclosure.strength_pack"), t("disclosure.price")], drugs,
      { numeric: [2], cards: false }));
}

function complaints(data) {
  const c = data.complaints;
  return section("complaints", t("disclosure.complaints"), facts([
    [t("disclosure.phone"), h("a", { href: `tel:${c.phone.replace(/[^0-9+]/g, "")}` }, c.phone)],
    [t("disclosure.email"), h("a", { href: `mailto:${c.email}` }, c.email)],
    [t("disclosure.address"), pick(c.address)],
    [t("disclosure.complaint_hours"), pick(c.hours)],
    [t("disclosure.online"), pick(c.online)],
    [t("disclosure.regulator"), pick(c.regulator)],
  ]));
}

function disputes(data) {
  return section("disputes", t("disclosure.disputes"), h("ol", { class: "steps" }, data.dispute_procedure.map((s) => h("li", {}, pick(s)))));
}

await load($("#disclosure"), () => api("/api/institution/disclosure", { auth: false }), (data) => [
  licence(data), departments(data), clinicians(data), service(data), schedules(data), prices(data), complaints(data),
  disputes(data), h("p", { class: "small muted" }, t("disclosure.generated", { at: formatDateTime(data.generated_at) })),
]);
