// A small Markdown subset for the hospital's own texts (the consent): headings, paragraphs, numbered and
// bulleted lists, **bold**. Built as DOM nodes, never as HTML strings.
import { h } from "./ui.js";

function inline(text) {
  return text.split(/(\*\*[^*]+\*\*)/).filter(Boolean)
    .map((part) => (part.startsWith("**") && part.endsWith("**") ? h("strong", {}, part.slice(2, -2)) : part));
}

export function renderMarkdown(source, { headingOffset = 1 } = {}) {
  const out = document.createDocumentFragment();
  let list = null;
  let paragraph = [];
  const flushParagraph = () => {
    if (paragraph.length) out.append(h("p", {}, inline(paragraph.join(" "))));
    paragraph = [];
  };
  for (const raw of source.split(/\r?\n/)) {
    const line = raw.trim();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const numbered = /^\d+[.、]\s*(.*)$/.exec(line);
    const bullet = /^[-*]\s+(.*)$/.exec(line);
    if (!line) {
      flushParagraph();
      list = null;
    } else if (heading) {
      flushParagraph();
      list = null;
      out.append(h(`h${Math.min(6, heading[1].length + headingOffset)}`, {}, inline(heading[2])));
    } else if (numbered || bullet) {
      flushParagraph();
      const tag = numbered ? "ol" : "ul";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag, {});
        out.append(list);
      }
      list.append(h("li", {}, inline((numbered || bullet)[1])));
    } else {
      list = null;
      paragraph.push(line);
    }
  }
  flushParagraph();
  return out;
}
