// Interface strings: the catalogue the server embedded in the page (frontend/i18n/<lang>.json), and formatting.
const node = document.getElementById("i18n-catalogue");
let catalogue = node ? JSON.parse(node.textContent) : {};

// Live bindings: a page that switches language in place (the call page) changes them for every module.
export let lang = document.documentElement.lang || "zh-CN";
export let isEnglish = lang === "en";

/** The string for `key` with `{name}` placeholders filled; the key itself when missing, so it shows. */
export function t(key, values = {}) {
  let text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

/** A `{zh, en}` text from the API in the page language (Chinese when no English is given). */
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return (isEnglish ? text.en : text.zh) || text.zh || text.en || "";
}

/** A catalogue key built from a prefix and a code, falling back to the code itself. */
export function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

let locale = isEnglish ? "en-GB" : "zh-CN";
const zone = { timeZone: "Asia/Shanghai" };

export function formatDate(iso) {
  if (!iso) return "";
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00+08:00` : iso);
  return d.toLocaleDateString(locale, { ...zone, year: "numeric", month: "2-digit", day: "2-digit" });
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(locale, { ...zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit" });
}

export function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(locale, { ...zone, hour: "2-digit", minute: "2-digit" });
}

/** A list in the page language: 内科、儿科 / internal medicine, paediatrics. */
export function joinList(items) {
  return items.join(isEnglish ? ", " : "、");
}

export function money(cny) {
  return `¥${Number(cny).toFixed(2)}`;
}

/**
 * The language switch in the header: remember the choice in a cookie the server reads (later pages open in it),
 * then reload. A page marked `data-switch-in-place` (the call page and the visit pages, where a call may run beside
 * the chat: a reload would drop it, issue 14) changes language without leaving: it reads the same page in the other
 * language (a page carries no patient data), takes its catalogue and the texts of everything the template wrote
 * (`retranslate`), and tells its modules (`hospital:language`) to say their own texts again. The call's peer
 * connection and event socket are never touched.
 */
export function setupLanguageSwitch() {
  const button = document.getElementById("lang-switch");
  if (!button) return;
  button.addEventListener("click", async () => {
    const next = button.dataset.lang;
    document.cookie = `lang=${encodeURIComponent(next)}; path=/; max-age=31536000; samesite=lax`;
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    if ("switchInPlace" in document.body.dataset) {
      try {
        await switchInPlace(next, url);
        return;
      } catch {
        // the other language could not be read: reloading is the only way left
      }
    }
    location.assign(url.toString());
  });
}

// Attributes that carry words, not state: a form control's value, `hidden` and the like stay as the script left them.
const WORDED_ATTRIBUTES = ["aria-label", "placeholder", "title", "alt", "label"];

const sameElement = (a, b) => a.tagName === b.tagName && a.id === b.id && a.className === b.className;

/**
 * Give `here` (this page's element) the words of `there` (the same element of the page in the other language).
 * Children are paired in order; an element the script added (a form's error area) has no twin and is passed
 * over. An element empty in the template is the script's to fill (the visit's summary, the chat, the call): it is
 * left alone, and the script says it again on `hospital:language`. So is a control's typed value.
 */
export function retranslate(here, there) {
  for (const name of WORDED_ATTRIBUTES) {
    if (here.hasAttribute(name) && there.hasAttribute(name)) here.setAttribute(name, there.getAttribute(name));
  }
  if (!there.hasChildNodes() || here.tagName === "TEXTAREA" || here.tagName === "NOSCRIPT") return;
  const mine = [...here.childNodes];
  let i = 0;
  for (const twin of there.childNodes) {
    if (twin.nodeType === Node.TEXT_NODE) {
      if (mine[i] && mine[i].nodeType === Node.TEXT_NODE) mine[i++].data = twin.data;
    } else if (twin.nodeType === Node.ELEMENT_NODE) {
      let j = i;
      while (j < mine.length && !(mine[j].nodeType === Node.ELEMENT_NODE && sameElement(mine[j], twin))) j += 1;
      if (j < mine.length) {
        retranslate(mine[j], twin);
        i = j + 1;
      }
    }
  }
}

async function switchInPlace(next, url) {
  const response = await fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const strings = JSON.parse(page.getElementById("i18n-catalogue").textContent);
  retranslate(document.body, page.body);
  document.title = page.title;
  const button = document.getElementById("lang-switch");
  const theirs = page.getElementById("lang-switch");
  button.textContent = theirs.textContent;
  for (const name of ["data-lang", "lang", "aria-label"]) button.setAttribute(name, theirs.getAttribute(name));
  catalogue = strings;
  document.getElementById("i18n-catalogue").textContent = JSON.stringify(strings);
  lang = next;
  isEnglish = next === "en";
  locale = isEnglish ? "en-GB" : "zh-CN";
  document.documentElement.lang = next;
  window.dispatchEvent(new CustomEvent("hospital:language", { detail: { lang: next } }));
}

/** Run `say` whenever the page switches language in place (a page marked `data-switch-in-place`). */
export function sayOnLanguage(say) {
  window.addEventListener("hospital:language", () => say());
}
