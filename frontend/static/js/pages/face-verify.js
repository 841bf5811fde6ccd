// Face verification before practice (FACE-02). The liveness challenge (docs/face-liveness.md): POST
// /api/me/face-challenges gives moves in a random order; the page shows each move, captures a burst of frames
// (webcam → canvas → JPEG, one per move: liveness.js) and POSTs it with the challenge's nonce. Where the hospital still allows it (not in
// production) and `?liveness=1` is not given, one still picture goes to POST /api/me/face-verifications instead.
// Every way it can fail says so: camera refused, no camera, camera busy, no face, several faces, mismatch,
// the enrolment photo held up (replay), a still picture, moves missing or out of order, locked (FACE-04).
import { api } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { answerChallenge } from "../liveness.js";
import { params, startPage } from "../page.js";
import { replaceToken, safeNext } from "../session.js";
import { $, bindButton, clear, errorNode, h, notice, showError } from "../ui.js";

const area = document.body.dataset.area; // doctor | pharmacist
await startPage({ role: area });

// FACE-01: the clinician's own biometric consent, given here in their own session before the enrolment the
// administrator made takes effect; until then no verification is accepted.
const consentCard = $("#biometric-consent");
const consent = await api("/api/me/biometric-consent").catch(() => null);
if (consent && !consent.given) {
  $("#biometric-consent-text").textContent = consent.text;
  consentCard.hidden = false;
  bindButton($("#give-biometric-consent"), $("#biometric-consent-error"), async () => {
    await api("/api/me/biometric-consent", { method: "POST",
      json: { version: consent.version, text_sha256: consent.text_sha256 } });
    consentCard.hidden = true;
    notice($("#biometric-consent-status"), t("face.consent_given"), "ok");
  });
}

const video = $("#camera");
const status = $("#camera-status");
const errors = $("#face-error");
const verifyButton = $("#verify");
let stream = null;

function home() {
  const next = safeNext(params().get("next"));
  return next && next.startsWith(`/${area}`) ? next : `/${area}`;
}

function cameraProblem(error) {
  const name = (error && error.name) || "";
  const key = name === "NotAllowedError" || name === "SecurityError" ? "face.camera_refused"
    : name === "NotFoundError" || name === "OverconstrainedError" ? "face.camera_missing"
    : name === "NotReadableError" || name === "AbortError" ? "face.camera_busy"
    : name === "insecure" ? "face.camera_insecure"
    : "face.camera_failed";
  return { status: null, ruleId: null, detail: t(key), message: t(key) };
}

async function startCamera() {
  verifyButton.disabled = true;
  clear(errors);
  notice(status, t("face.camera_starting"), "warn");
  if (stream) stream.getTracks().forEach((track) => track.stop());
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw Object.assign(new Error("insecure"), { name: "insecure" });
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false });
    video.srcObject = stream;
    await video.play();
    notice(status, t("face.camera_ready"));
    verifyButton.disabled = false;
  } catch (error) {
    clear(status);
    showError(errors, cameraProblem(error));
  }
}

function capture() {
  const canvas = $("#snapshot");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  if (!canvas.width || !canvas.height) throw cameraProblem({ name: "NotReadableError" });
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(cameraProblem({}))), "image/jpeg", 0.92));
}

function explain(error) {
  // The server names why (reason) and tells it in the page's language; the page's own words for the reason are
  // the more precise where it has them (no face, several faces, a locked verification).
  const reason = error.problem && error.problem.reason;
  const known = reason ? t(`face.reason.${reason}`) : null;
  if (error.status === 423) error.detail = t("face.reason.locked");
  else if (known && known !== `face.reason.${reason}`) error.detail = known;
  const attempts = error.problem && error.problem.failed_attempts;
  const node = errorNode(error);
  if (attempts) node.append(h("p", { class: "small" }, t("face.failed_attempts", { count: attempts })));
  return node;
}

const stepArea = $("#challenge-step");

function showStep(step) {
  stepArea.hidden = !step;
  stepArea.dataset.step = step || "";
  stepArea.textContent = step ? t(`face.step.${step}`) : "";
}

async function singleImage() {
  const form = new FormData();
  form.append("image", await capture(), "capture.jpg");
  return api("/api/me/face-verifications", { method: "POST", form });
}

function liveness() {
  return answerChallenge({ video, capture, showStep, checking: () => notice(status, t("face.checking"), "warn") });
}

let useSingleImage = false;
if (params().get("liveness") !== "1") {
  try {
    useSingleImage = (await api("/api/me/face-verification-modes")).single_image === true;
  } catch {
    useSingleImage = false; // the challenge always works
  }
}

bindButton(verifyButton, errors, async () => {
  notice(status, useSingleImage ? t("face.checking") : t("face.liveness_intro"), "warn");
  try {
    const result = await (useSingleImage ? singleImage() : liveness());
    replaceToken(result.access_token, result.expires_in, { face_verified_at: result.face_verified_at });
    notice(status, t("face.passed", { time: formatTime(result.face_verified_at) }));
    if (stream) stream.getTracks().forEach((track) => track.stop());
    location.assign(home());
  } catch (error) {
    showStep(null);
    clear(status);
    clear(errors, explain(error));
  }
});
$("#restart-camera").addEventListener("click", startCamera);

async function showSessionState() {
  const state = $("#session-state");
  try {
    const practice = await api("/api/me/practice-session");
    clear(state, h("div", { class: "notice" }, t("face.already_verified", { time: formatTime(practice.face_verified_at) }), " ",
      h("a", { href: home() }, t("face.continue"))));
  } catch (error) {
    if (error.status !== 403) showError(state, error); // 403 FACE-02 is the expected "not yet verified"
  }
}

showSessionState();
startCamera();
