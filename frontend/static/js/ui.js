// Small DOM helpers: build elements without innerHTML, and the loading, error and notice states.
import { t } from "./i18n.js";

/** h("p", {class: "x", onclick: fn}, "text", child): an element; strings become text nodes (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`page element ${selector} is missing`);
  return el;
}

export function loadingNode(text) {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }),
    text || t("state.loading"));
}

export function showLoading(el, text) {
  el.setAttribute("aria-busy", "true");
  clear(el, loadingNode(text));
}

/** The heading: the refusal's own reason as the server told it in the page's language (the rule's title, "wrong
 * password", "phone already registered"), never a guess from the HTTP status, which says too little (issue 14). */
function headingOf(error) {
  const status = error && error.status;
  if (status === 0) return t("error.network");
  if (error && error.title) return error.title;
  if (status && t(`error.status.${status}`) !== `error.status.${status}`) return t(`error.status.${status}`);
  return t("error.generic");
}

/** The error as the patient or clinician should see it: the rule's own reason, what to do, the rule ID small. */
export function errorNode(error) {
  const status = error && error.status;
  const ruleId = error && error.ruleId;
  const detail = error && (error.detail || error.message);
  const box = h("div", { class: "error-box", role: "alert", "data-rule-id": ruleId || null },
    h("strong", { class: "error-heading" }, headingOf(error)),
    h("p", { class: "detail" }, detail || t("error.unknown")),
    ruleId ? h("small", { class: "rule-ref" }, h("a", { href: `/problems/${encodeURIComponent(ruleId)}`,
      title: t("error.rule") }, t("error.rule_ref", { id: ruleId }))) : null,
  );
  // A clinician refused for want of a (fresh) face verification gets the way to it, and back here.
  const area = document.body.dataset.area;
  if ((ruleId === "FACE-02" || ruleId === "FACE-03") && (area === "doctor" || area === "pharmacist")
      && !location.pathname.endsWith("/verify")) {
    const next = encodeURIComponent(location.pathname + location.search);
    box.append(h("p", {}, h("a", { href: `/${area}/verify?next=${next}`, class: "button secondary" }, t("practice.verify_now"))));
  }
  if (status === 401 && error.problem && error.problem.code === "session_expired") {
    const next = encodeURIComponent(location.pathname + location.search);
    box.append(h("p", {}, h("a", { href: `/login?next=${next}` }, t("error.login_again"))));
  }
  if (error && error.requestId) box.append(h("small", { class: "request-id" }, t("error.request_id", { id: error.requestId })));
  return box;
}

export function showError(el, error) {
  el.removeAttribute("aria-busy");
  el.hidden = false;
  clear(el, errorNode(error));
}

export function notice(el, text, kind = "ok") {
  el.hidden = false;
  clear(el, h("div", { class: `notice ${kind === "ok" ? "" : kind}`.trim(), role: "status" }, text));
}

// The latest load asked of each element: an earlier one answering later (a slow request overtaken) renders nothing,
// or it would draw stale rows over the fresh ones and wipe a form the user is filling in.
const latestLoad = new WeakMap();

/** Show loading in `el`, run `fetcher`, then `render(data)` into it, or the error. Returns the data or null. */
export async function load(el, fetcher, render) {
  const generation = (latestLoad.get(el) || 0) + 1;
  latestLoad.set(el, generation);
  showLoading(el);
  try {
    const data = await fetcher();
    if (latestLoad.get(el) !== generation) return data;
    el.removeAttribute("aria-busy");
    clear(el);
    const content = render(data);
    if (content) append(el, [content]);
    return data;
  } catch (error) {
    if (latestLoad.get(el) === generation) showError(el, error);
    return null;
  }
}

/**
 * Submit `form` through `handler(formData, form)`: browser validation first, the submit button busy while
 * it runs, and any failure shown in the form's `[data-role=form-error]` area (created when missing).
 */
export function bindForm(form, handler) {
  // A page form's submit is rendered disabled until its script takes it over: pressed earlier, the browser would
  // send the form itself, fields and all (a password), where nothing answers it (issue 14).
  form.querySelectorAll("[data-awaits-script]").forEach((button) => {
    button.disabled = false;
    button.removeAttribute("data-awaits-script");
  });
  let errorArea = form.querySelector("[data-role=form-error]");
  if (!errorArea) {
    errorArea = h("div", { "data-role": "form-error", "aria-live": "assertive" });
    form.prepend(errorArea);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const buttons = [...form.querySelectorAll("button[type=submit], button:not([type])")];
    buttons.forEach((b) => { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    clear(errorArea);
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    try {
      await handler(new FormData(form), form, event.submitter);
    } catch (error) {
      showError(errorArea, error);
      // A refusal that names a field (PAT-01 names id_number, phone …) marks that field and moves focus to it.
      const name = error && error.problem && error.problem.field;
      const culprit = name ? form.elements.namedItem(name) : null;
      if (culprit && culprit.focus) {
        culprit.setAttribute("aria-invalid", "true");
        culprit.setAttribute("aria-errormessage", errorArea.id || (errorArea.id = `${form.id || "form"}-error`));
        culprit.focus();
      } else {
        errorArea.scrollIntoView({ block: "nearest" });
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; b.removeAttribute("aria-busy"); });
    }
  });
}

/** Run `action` from a button: busy while running, errors into `errorArea`. */
export function bindButton(button, errorArea, action) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    clear(errorArea);
    try {
      await action();
    } catch (error) {
      showError(errorArea, error);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
}

/**
 * Build `root`'s content again (in the page's new language) without losing what the person typed or chose:
 * `build(fresh)` fills a detached element; when it holds the same controls as `root`, their values are carried
 * over in order and it takes `root`'s place. When it does not (a drug line added since), `root` stays as it is:
 * what was typed matters more than the language of its labels (issue 14). Resolves to whether it was rebuilt.
 */
export async function rebuildKeepingInput(root, build) {
  const controls = (el) => [...el.querySelectorAll("input, select, textarea")];
  const before = controls(root);
  const fresh = document.createElement(root.tagName);
  await build(fresh);
  const after = controls(fresh);
  if (after.length !== before.length || after.some((c, i) => c.tagName !== before[i].tagName || c.type !== before[i].type)) {
    return false;
  }
  after.forEach((control, i) => {
    if (control.type === "checkbox" || control.type === "radio") control.checked = before[i].checked;
    else if (control.type !== "file") control.value = before[i].value;
  });
  root.replaceChildren(...fresh.childNodes);
  return true;
}

/** A labelled form field: label, control and optional hint, tied together by ids. */
export function field(id, labelText, control, hint) {
  control.id = id;
  if (!control.name) control.name = id;
  const children = [h("label", { for: id }, labelText)];
  if (hint) {
    control.setAttribute("aria-describedby", `${id}-hint`);
    children.push(h("span", { class: "hint", id: `${id}-hint` }, hint));
  }
  return h("div", { class: "field" }, ...children, control);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim() }, text);
}

export function table(caption, headers, rows, { numeric = [], cards = true, label = null } = {}) {
  // A wrap that scrolls sideways is a named region reachable by keyboard (axe scrollable-region-focusable).
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label || caption || t("journey.table") },
    h("table", { class: cards ? "cards" : null },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((head, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, head)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
        h("td", { class: numeric.includes(i) ? "num" : null, "data-label": headers[i] }, cell)))))));
}
