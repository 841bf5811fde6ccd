// Interface strings: the catalogue the server embedded in the page (frontend/i18n/<lang>.json), and formatting.
const node = document.getElementById("i18n-catalogue");
const catalogue = node ? JSON.parse(node.textContent) : {};

export const lang = document.documentElement.lang || "zh-CN";
export const isEnglish = lang === "en";

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

const locale = isEnglish ? "en-GB" : "zh-CN";
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

/** The language switch in the header: remember the choice in a cookie the server reads, then reload. */
export function setupLanguageSwitch() {
  const button = document.getElementById("lang-switch");
  if (!button) return;
  button.addEventListener("click", () => {
    document.cookie = `lang=${encodeURIComponent(button.dataset.lang)}; path=/; max-age=31536000; samesite=lax`;
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    location.assign(url.toString());
  });
}
