// The video call of one visit, for its patient or its doctor (issue 6): camera and microphone to the
// hospital's media peer, the other side's picture back, and the hospital's notices (paused, resumed …).
// `startCall(root, visitId)` runs one call inside `root`, which holds the call's elements (found by their
// data-testid: call-status, call-notice, remote-video, local-video, reverify, leave) and carries the call's
// state in `data-call-state`. The visit pages mount it beside the chat; the call page (/visits/{id}/call,
// `pages/call.js`) runs it on its whole body. Both start through page.js, which keeps the session renewed.
// The bearer token is the one the log-in page keeps in sessionStorage ("hospital.session").

const SESSION_KEY = "hospital.session";
const TESTIDS = { "call-status": "call-status", "call-notice": "call-notice", "remote-video": "remote-video",
  "local-video": "local-video", reverify: "reverify", leave: "leave" };
let root = document.body;
let base = "";
const $ = (id) => root.querySelector(`[data-testid="${TESTIDS[id]}"]`);

let TEXT = {
  connecting: "正在连接… Connecting…",
  reconnecting: "网络中断，正在重新连接… Connection lost, reconnecting…",
  live: "通话中 Live",
  pausedDoctor: "已暂停：未能持续核验您的人脸，请重新核验后继续 Paused: verify your face again to resume",
  pausedPatient: "已暂停：正在等待医生重新核验身份 Paused: waiting for the doctor to verify again",
  ended: "通话已结束 The call has ended",
  login: "请先登录 Log in first",
};

const call = { role: null, paused: false, ended: false, pc: null, stream: null, iceServers: [], retry: 0, timer: null };

function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null;
  } catch {
    return null;
  }
}

function token() {
  const current = session();
  return current ? current.token : null;
}

function saveToken(accessToken, expiresIn) {
  const current = session() || {};
  current.token = accessToken;
  current.expires_at = Date.now() + (expiresIn || 900) * 1000;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(current));
}

async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json, application/problem+json", Authorization: `Bearer ${token()}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { title: `HTTP ${response.status}` };
    }
    const error = new Error(problem.detail || problem.title || `HTTP ${response.status}`);
    error.status = response.status;
    error.ruleId = problem.rule_id || null;
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

function show(state, text) {
  root.dataset.callState = state;
  $("call-status").textContent = text;
}

function notice(text) {
  $("call-notice").hidden = !text;
  $("call-notice").textContent = text || "";
}

function render() {
  if (call.ended) return;
  $("reverify").hidden = !(call.paused && call.role === "doctor");
  if (call.paused) {
    show("paused", call.role === "doctor" ? TEXT.pausedDoctor : TEXT.pausedPatient);
  } else if (call.pc && call.pc.connectionState === "connected") {
    show("live", TEXT.live);
  } else if (call.timer) {
    show("reconnecting", TEXT.reconnecting);
  } else {
    show("connecting", TEXT.connecting);
  }
}

function refused(error) {
  if (!error.status && call.stream) {
    scheduleReconnect(2000); // the network, not the hospital: try again
  } else {
    end(`${error.message}${error.ruleId ? ` (${error.ruleId})` : ""}`, "refused");
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
  if (call.pc) call.pc.close();
  const pc = new RTCPeerConnection({ iceServers: call.iceServers });
  call.pc = pc;
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

function onConnectionState(pc) {
  if (pc !== call.pc || call.ended) return;
  if (pc.connectionState === "connected") {
    call.retry = 0;
    clearTimeout(call.timer);
    call.timer = null;
  } else if (pc.connectionState === "failed") {
    scheduleReconnect(0);
  } else if (pc.connectionState === "disconnected") {
    scheduleReconnect(4000); // often comes back by itself; if not, join again
  }
  render();
}

function scheduleReconnect(delayMs) {
  if (call.ended) return;
  clearTimeout(call.timer);
  call.timer = setTimeout(() => {
    if (call.pc && call.pc.connectionState === "connected") {
      call.timer = null;
      render();
      return;
    }
    call.retry += 1;
    connect().catch(refused);
  }, delayMs + Math.min(call.retry, 5) * 1000);
  render();
}

// The hospital's notices for this visit. The socket is opened again whenever it drops, until the call ends.
function listen() {
  if (call.ended) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${base}/events?token=${encodeURIComponent(token())}`);
  call.socket = socket;
  socket.onmessage = (event) => onNotice(JSON.parse(event.data));
  socket.onclose = (event) => {
    if (call.ended || socket !== call.socket) return;
    if (event.code >= 4400 && event.code < 4500) return end(event.reason || `refused (${event.code})`, "refused");
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
  if (message.kind === "state" && !["accepted", "in_progress"].includes(message.state)) return end(TEXT.ended, "ended");
  if (message.kind === "state") call.paused = message.paused;
  else if (message.kind === "paused") call.paused = true;
  else if (message.kind === "resumed") call.paused = false;
  else if (message.kind === "joined" && message.role !== call.role) notice("对方已加入 The other side joined");
  else if (message.kind === "left" && message.role !== call.role) notice("对方已离开 The other side left");
  else if (message.kind === "face_check") $("call-status").title = `face check: ${message.status}`;
  else if (message.kind === "ended") return end(TEXT.ended, "ended");
  render();
}

// The doctor verifies again with a picture from their own camera, then resumes the call (FACE-02).
async function reverify() {
  const video = $("local-video");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  const picture = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  const form = new FormData();
  form.append("image", picture, "capture.jpg");
  try {
    const verified = await api("/api/me/face-verifications", { method: "POST", form });
    saveToken(verified.access_token, verified.expires_in);
    await api(`${base}/resume`, { method: "POST" });
    notice("");
  } catch (error) {
    notice(`${error.message}${error.ruleId ? ` (${error.ruleId})` : ""}`);
  }
}

function end(text, state) {
  call.ended = true;
  clearTimeout(call.timer);
  if (call.pc) call.pc.close();
  if (call.stream) call.stream.getTracks().forEach((track) => track.stop());
  if (call.socket) call.socket.close();
  $("reverify").hidden = true;
  show(state, text);
}

/**
 * Start the call of `visitId` inside `container` (see the top of this file); `text` replaces any of the
 * status lines (the visit pages pass them in the page's language). Starts once per page.
 */
export async function startCall(container, visitId, text = {}) {
  root = container;
  base = `/api/visits/${visitId}/call`;
  TEXT = { ...TEXT, ...text };
  $("leave").addEventListener("click", () => api(`${base}/leave`, { method: "POST" }).catch(() => {}).finally(() => end(TEXT.ended, "ended")));
  $("reverify").addEventListener("click", reverify);
  window.addEventListener("online", () => {
    if (call.pc && call.pc.connectionState !== "connected") scheduleReconnect(0);
  });
  if (!token()) {
    show("refused", TEXT.login);
    return;
  }
  try {
    const status = await api(base);
    call.role = status.role;
    call.paused = status.paused;
    call.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
    $("local-video").srcObject = call.stream;
    call.iceServers = (await api(`${base}/ice-servers`)).ice_servers;
    listen();
    await connect();
  } catch (error) {
    refused(error);
  }
}
