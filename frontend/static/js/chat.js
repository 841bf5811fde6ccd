// The visit's text chat (图文问诊), for its patient and its doctor; kept 3 years (REC-02). Polls for new messages.
import { api } from "./api.js";
import { formatTime, sayOnLanguage, t } from "./i18n.js";
import { $, bindForm, clear, field, h, showError } from "./ui.js";

const POLL_MS = 3000;

export function mountChat(root, visitId, { myRole, canWrite }) {
  const log = h("ol", { class: "chat-log", "aria-live": "polite", "aria-label": t("chat.log"), "data-testid": "chat-log" });
  const errors = h("div", { "aria-live": "assertive" });
  const input = h("textarea", { required: true, maxlength: 2000, rows: 2 });
  const send = h("button", { type: "submit" }, t("chat.send"));
  const form = h("form", { class: "chat-form" }, field(`chat-${visitId}`, t("chat.message"), input),
    h("div", { class: "actions" }, send));
  form.hidden = !canWrite;
  clear(root, log, errors, form);
  let seen = 0;
  let timer = null;

  let shown = [];
  function show(messages) {
    shown = messages;
    clear(log, messages.length ? messages.map((m) => h("li", { class: `chat-message ${m.sender_role === myRole ? "mine" : "theirs"}` },
      h("span", { class: "chat-meta" }, `${t(`role.${m.sender_role}`)} · ${formatTime(m.sent_at)}`),
      h("span", { class: "chat-body" }, m.body))) : h("li", { class: "empty" }, t("chat.empty")));
    log.scrollTop = log.scrollHeight;
  }

  // The page switched language in place (issue 14): the chat's words again (the senders' roles too, from the
  // messages already read), the draft kept.
  sayOnLanguage(() => {
    log.setAttribute("aria-label", t("chat.log"));
    form.querySelector("label").textContent = t("chat.message");
    send.textContent = t("chat.send");
    show(shown);
  });

  async function refresh() {
    try {
      const messages = await api(`/api/visits/${visitId}/messages`);
      if (messages.length !== seen) {
        seen = messages.length;
        show(messages);
      }
      clear(errors);
    } catch (error) {
      showError(errors, error);
      if (error.status === 401 || error.status === 404) stop();
    }
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  bindForm(form, async () => {
    await api(`/api/visits/${visitId}/messages`, { method: "POST", json: { body: input.value.trim() } });
    input.value = "";
    await refresh();
    input.focus();
  });

  refresh();
  timer = setInterval(refresh, POLL_MS);
  return {
    stop,
    setWritable(writable) { form.hidden = !writable; },
  };
}
