// Face verification before practice (FACE-02): webcam → canvas → JPEG → POST /api/me/face-verifications.
// Every way it can fail says so: camera refused, no camera, camera busy, no face, several faces, mismatch,
// the enrolment photo held up (replay), locked after repeated failures (FACE-04).
import { api } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { params, startPage } from "../page.js";
import { replaceToken, safeNext } from "../session.js";
import { $, bindButton, clear, errorNode, h, notice, showError } from "../ui.js";

const area = document.body.dataset.area; // doctor | pharmacist
await startPage({ role: area });

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
  // The server names why (reason); say it in the clinician's words, keep the rule id and the server's detail.
  const reason = error.problem && error.problem.reason;
  const known = reason ? t(`face.reason.${reason}`) : null;
  if (error.status === 423) error.detail = `${t("face.reason.locked")} ${error.detail}`;
  else if (known && known !== `face.reason.${reason}`) error.detail = `${known} (${error.detail})`;
  const attempts = error.problem && error.problem.failed_attempts;
  const node = errorNode(error);
  if (attempts) node.append(h("p", { class: "small" }, t("face.failed_attempts", { count: attempts })));
  return node;
}

bindButton(verifyButton, errors, async () => {
  notice(status, t("face.checking"), "warn");
  const form = new FormData();
  form.append("image", await capture(), "capture.jpg");
  try {
    const result = await api("/api/me/face-verifications", { method: "POST", form });
    replaceToken(result.access_token, result.expires_in, { face_verified_at: result.face_verified_at });
    notice(status, t("face.passed", { time: formatTime(result.face_verified_at) }));
    if (stream) stream.getTracks().forEach((track) => track.stop());
    location.assign(home());
  } catch (error) {
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
