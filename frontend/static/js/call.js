// The video call of one visit, for its patient or its doctor (issue 6): camera and microphone to the
// hospital's media peer, the other side's picture back, and the hospital's notices (paused, resumed …).
// `startCall(root, visitId)` runs one call inside `root`, which holds the call's elements (found by their
// data-testid: call-status, call-notice, remote-video, local-video, reverify, leave) and carries the call's
// state in `data-call-state`. The visit pages mount it beside the chat; the call page (/visits/{id}/call,
// `pages/call.js`) runs it on its whole body. Both start through page.js, which keeps the session renewed.
// The session, the API and the texts are the pages' own: session.js, api.js, i18n.js.
//
// Recovery: the page notices a dropped call by itself (the connection disconnected or failed, the events socket
// lost, the browser back online or on another network) and joins again with backoff (1, 2, 4, 8, 15 s), saying
// what it does; the local preview stays. Every recovery is a fresh peer connection: the hospital's peer (aiortc)
// cannot restart ICE on a live connection, and joining again replaces the old connection there while the
// recording carries on in the same file (the time away marked as a gap). A peer that does not connect within
// CONNECT_TIMEOUT_MS is given up for the next attempt. `data-reconnects` on the root counts the rejoins.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { answerChallenge } from "./liveness.js";
import { currentSession, replaceToken } from "./session.js";

let root = document.body;
let base = "";
const $ = (testid) => root.querySelector(`[data-testid="${testid}"]`);

const call = { role: null, mode: "video", paused: false, ended: false, pc: null, stream: null, iceServers: [], retry: 0,
  timer: null, reason: null, rejoins: 0, connectTimer: null, shown: null, noticed: null };
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const CONNECT_TIMEOUT_MS = 8000;
// Nothing at all received on the connection for this long (the hospital's peer sends RTCP every second or so,
// even while the other side is away or the visit paused) is a dropped network, whatever the connection's state
// says: browsers take much longer to call it "disconnected".
const STALL_MS = 3000;

function token() {
  const current = currentSession();
  return current ? current.token : null;
}

function withRule(error) {
  return `${error.message}${error.ruleId ? ` (${error.ruleId})` : ""}`;
}

// A text the call shows: a catalogue key with its values, said again in the other language when the page switches
// (the switch keeps the call, issue 14), or a string the server already told in the page's language.
const said = (key, values = {}) => ({ key, values });
const textOf = (text) => (text && typeof text === "object" ? t(text.key, text.values) : text || "");

function show(state, text) {
  call.shown = text;
  root.dataset.callState = state;
  $("call-status").textContent = textOf(text);
}

function notice(text) {
  call.noticed = text;
  $("call-notice").hidden = !text;
  $("call-notice").textContent = textOf(text);
}

/** The page switched language in place: the call's labels, status and notice in the new one; the call goes on. */
function sayAgain() {
  $("leave").textContent = t("video.leave");
  $("reverify").textContent = t("video.reverify");
  $("remote-video").setAttribute("aria-label", t("video.remote"));
  $("local-video").setAttribute("aria-label", t("video.local"));
  if (call.ended || root.dataset.callState === "refused" || root.dataset.callState === "loading") {
    show(root.dataset.callState, call.shown);
  } else {
    render();
  }
  notice(call.noticed);
}

function render() {
  if (call.ended) return;
  $("reverify").hidden = !(call.paused && call.role === "doctor");
  if (call.paused) {
    show("paused", said(call.role === "doctor" ? "video.paused_doctor" : "video.paused_patient"));
  } else if (call.pc && call.pc.connectionState === "connected" && !call.stalled) {
    show("live", said("video.live"));
  } else if (call.timer || call.rejoins > 0) {
    show("reconnecting", call.reason ? said("video.reconnecting_because", { reason: t(`video.lost_${call.reason}`), attempt: call.retry + 1 })
      : said("video.reconnecting"));
  } else {
    show("connecting", said("video.connecting"));
  }
}

function refused(error) {
  if ((!error.status || error.status >= 500) && call.stream) {
    scheduleReconnect("network"); // the network or a restarting hospital, not a refusal: try again
  } else {
    end(withRule(error), "refused");
  }
}

function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// One connection to the hospital's peer. Joining again (after a dropped network) replaces the old one there.
async function connect() {
  if (call.ended) return;
  clearTimeout(call.timer);
  call.timer = null;
  if (call.pc) {
    call.rejoins += 1;
    root.dataset.reconnects = String(call.rejoins);
    call.pc.close();
  }
  const pc = new RTCPeerConnection({ iceServers: call.iceServers });
  call.pc = pc;
  call.stalled = false;
  watchStall(pc);
  clearTimeout(call.connectTimer);
  call.connectTimer = setTimeout(() => {
    if (pc === call.pc && pc.connectionState !== "connected") scheduleReconnect("ice");
  }, CONNECT_TIMEOUT_MS);
  const remote = new MediaStream();
  $("remote-video").srcObject = remote;
  pc.ontrack = (event) => remote.addTrack(event.track);
  for (const track of call.stream.getTracks()) pc.addTrack(track, call.stream);
  const late = [];
  let offered = false;
  let answered = false;
  const trickle = (body) => api(`${base}/candidates`, { method: "POST", json: body }).catch(() => {});
  pc.onicecandidate = ({ candidate }) => {
    if (!offered) return; // gathered before the offer: already in its SDP
    const body = candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
      : { candidate: "" };
    if (answered) trickle(body);
    else late.push(body);
  };
  pc.onconnectionstatechange = () => onConnectionState(pc);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  offered = true;
  const answer = await api(`${base}/offer`, { method: "POST", json: { type: "offer", sdp: pc.localDescription.sdp } });
  if (pc !== call.pc) return;
  await pc.setRemoteDescription(answer);
  answered = true;
  late.forEach(trickle);
  render();
}

// Watch what arrives on `pc` (bytes received by its transport); silence for STALL_MS starts a recovery.
function watchStall(pc) {
  let last = -1;
  let since = Date.now();
  const timer = setInterval(async () => {
    if (pc !== call.pc || call.ended) {
      clearInterval(timer);
      return;
    }
    if (pc.connectionState !== "connected") return;
    let bytes = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "transport") bytes += report.bytesReceived || 0;
    });
    if (bytes !== last) {
      last = bytes;
      since = Date.now();
      if (call.stalled) { // it came back by itself before the rejoin
        call.stalled = false;
        if (call.reason) notice(said("video.reconnected"));
        call.reason = null;
        call.retry = 0;
        render();
      }
    } else if (Date.now() - since >= STALL_MS && !call.stalled) {
      call.stalled = true;
      scheduleReconnect("ice");
    }
  }, 1000);
}

function onConnectionState(pc) {
  if (pc !== call.pc || call.ended) return;
  if (pc.connectionState === "connected" && !call.stalled) {
    if (call.reason) notice(said("video.reconnected"));
    call.retry = 0;
    call.reason = null;
    clearTimeout(call.timer);
    clearTimeout(call.connectTimer);
    call.timer = null;
  } else if (pc.connectionState === "failed" || pc.connectionState === "disconnected") {
    // "disconnected" may come back by itself within the first backoff step; if not, join again.
    scheduleReconnect("ice");
  }
  render();
}

// Join again after the next backoff step (unless the connection came back meanwhile). `reason`: ice, network,
// socket: shown to the user.
function scheduleReconnect(reason) {
  if (call.ended || call.timer) return; // one attempt pending at a time
  call.reason = reason;
  const delayMs = BACKOFF_MS[Math.min(call.retry, BACKOFF_MS.length - 1)] + Math.random() * 250;
  call.timer = setTimeout(() => {
    call.timer = null;
    if (call.pc && call.pc.connectionState === "connected" && !call.stalled) {
      call.reason = null; // it came back by itself
      render();
      return;
    }
    call.retry += 1;
    connect().catch(refused);
    render();
  }, delayMs);
  render();
}

// The hospital's notices for this visit. The socket is opened again whenever it drops, until the call ends.
function listen() {
  if (call.ended) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${base}/events?token=${encodeURIComponent(token())}`);
  call.socket = socket;
  socket.onmessage = (event) => onNotice(JSON.parse(event.data));
  socket.onopen = () => {
    // Back after a lost socket: if the media did not survive the same outage, join again. 1012: the media worker
    // holding the call went away (docs/operations.md): its media are gone even if ICE has not noticed yet.
    if (call.lostSocket && call.pc && (call.workerGone || call.pc.connectionState !== "connected")) scheduleReconnect("socket");
    call.lostSocket = false;
    call.workerGone = false;
  };
  socket.onclose = (event) => {
    if (call.ended || socket !== call.socket) return;
    if (event.code >= 4400 && event.code < 4500) return end(event.reason || said("video.refused", { code: event.code }), "refused");
    call.lostSocket = true;
    if (event.code === 1012) call.workerGone = true;
    // Until the socket is back, ask once whether the visit is paused (a proxy may refuse WebSockets).
    api(base)
      .then((status) => {
        onNotice({ kind: "state", ...status });
        setTimeout(listen, 2000);
      })
      .catch((error) => {
        if (error.status >= 400 && error.status < 500) refused(error); // e.g. the token expired: log in again
        else setTimeout(listen, 2000);
      });
  };
}

function onNotice(message) {
  if (message.kind === "state" && !["accepted", "in_progress"].includes(message.state)) return end(said("video.ended"), "ended");
  if (message.kind === "state") call.paused = message.paused;
  else if (message.kind === "paused") call.paused = true;
  else if (message.kind === "resumed") call.paused = false;
  else if (message.kind === "joined" && message.role !== call.role) notice(said(message.rejoined ? "video.other_back" : "video.other_joined"));
  else if (message.kind === "stalled" && message.role !== call.role) notice(said("video.other_stalled"));
  else if (message.kind === "flowing" && message.role !== call.role) notice(said("video.other_back"));
  else if (message.kind === "left" && message.role !== call.role) {
    notice(said(message.rejoin_window_s ? "video.other_dropped" : "video.other_left"));
  }
  else if (message.kind === "face_check") $("call-status").title = t("video.face_check", { status: message.status });
  else if (message.kind === "ended") return end(said("video.ended"), "ended");
  render();
}

// The doctor verifies again by the liveness challenge (FACE-02, docs/face-liveness.md), as the verification page
// does: the moves are shown in the call's notice (its `data-step` names the move asked for), the frames come from
// the doctor's own camera (the local preview), the burst goes with the challenge's nonce, then the call resumes.
// One still picture is not sent: the single-image path is a legacy option, off in production.
function showStep(step) {
  $("call-notice").dataset.step = step || "";
  notice(step ? said(`face.step.${step}`) : "");
}

function capture(video) {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
}

async function reverify() {
  const video = $("local-video");
  const button = $("reverify");
  button.disabled = true;
  try {
    const verified = await answerChallenge({
      video, capture: () => capture(video), showStep, checking: () => notice(said("face.checking")),
    });
    replaceToken(verified.access_token, verified.expires_in, { face_verified_at: verified.face_verified_at });
    await api(`${base}/resume`, { method: "POST" });
    notice("");
  } catch (error) {
    showStep(null);
    notice(withRule(error));
  } finally {
    button.disabled = false;
  }
}

function end(text, state) {
  call.ended = true;
  clearTimeout(call.timer);
  clearTimeout(call.connectTimer);
  if (call.pc) call.pc.close();
  if (call.stream) call.stream.getTracks().forEach((track) => track.stop());
  if (call.socket) call.socket.close();
  $("reverify").hidden = true;
  show(state, text);
}

/** Start the call of `visitId` inside `container` (see the top of this file), in the page's language. Once per page. */
export async function startCall(container, visitId) {
  root = container;
  base = `/api/visits/${visitId}/call`;
  $("leave").addEventListener("click", () => api(`${base}/leave`, { method: "POST" }).catch(() => {}).finally(() => end(said("video.ended"), "ended")));
  $("reverify").addEventListener("click", reverify);
  window.addEventListener("hospital:language", sayAgain);
  window.addEventListener("online", () => {
    if (call.pc && call.pc.connectionState !== "connected") scheduleReconnect("network");
  });
  if (navigator.connection && navigator.connection.addEventListener) {
    // Another network (Wi-Fi to mobile): the old path is gone even if the connection has not noticed yet.
    navigator.connection.addEventListener("change", () => {
      if (call.pc && !call.ended) {
        call.reason = "network";
        call.retry = 0;
        clearTimeout(call.timer);
        call.timer = null;
        connect().catch(refused);
      }
    });
  }
  if (!token()) {
    show("refused", said("video.login"));
    return;
  }
  try {
    const status = await api(base);
    call.role = status.role;
    call.paused = status.paused;
    call.mode = status.mode; // video, or audio: the microphone only, nothing to watch
    const camera = status.mode === "video" ? { width: 640, height: 480 } : false;
    call.stream = await navigator.mediaDevices.getUserMedia({ video: camera, audio: true });
    $("local-video").srcObject = call.stream;
    call.iceServers = (await api(`${base}/ice-servers`)).ice_servers;
    listen();
    await connect();
  } catch (error) {
    refused(error);
  }
}
