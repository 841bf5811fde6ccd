// The clinician's signing device (RX-05, 电子签名法 第十三条): the private key is made here by WebCrypto as a
// non-extractable ECDSA P-256 key, kept in this browser's IndexedDB, and never leaves it. The hospital certifies
// its public key (after a fresh face verification and a proof of possession over its nonce) and afterwards only
// verifies what this page signs. A signing act takes two trips: the first names the device and is answered 428
// with the exact payload the hospital prepared; the page shows it, signs those bytes as a compact JWS (ES256,
// the header the hospital sends with x5c), and sends the same request again with the JWS.
import { api, ApiError } from "./api.js";
import { h, clear } from "./ui.js";

const DB = "hospital-signing";
const STORE = "devices"; // device id -> { deviceId, privateKey (CryptoKey, not extractable) }
const ECDSA = { name: "ECDSA", hash: "SHA-256" };

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "deviceId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stored(deviceId) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).get(deviceId);
    request.onsuccess = () => resolve(request.result || null);
    request.onerror = () => reject(request.error);
  });
}

async function keep(record) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(record);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

function b64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

async function signText(privateKey, text) {
  // WebCrypto's ECDSA signature is already the raw r||s that JWS (RFC 7518 3.4) wants.
  return b64url(await crypto.subtle.sign(ECDSA, privateKey, new TextEncoder().encode(text)));
}

/** This clinician's device held by this browser, registered now if there is none (needs a fresh face). */
export async function signingDevice(name = "browser") {
  const mine = await api("/api/me/signing-devices/");
  for (const device of mine.filter((d) => d.status === "active").reverse()) {
    const record = await stored(device.device_id);
    if (record) return record;
  }
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const { nonce } = await api("/api/me/signing-devices/nonce", { method: "POST" });
  const publicKey = b64(await crypto.subtle.exportKey("spki", pair.publicKey));
  const registered = await api("/api/me/signing-devices/", { method: "POST", json: {
    name, public_key: publicKey, nonce, proof: await signText(pair.privateKey, nonce) } });
  const record = { deviceId: registered.device_id, privateKey: pair.privateKey };
  await keep(record);
  return record;
}

function payloadNode(problem) {
  return h("details", { class: "signing-payload", open: true },
    h("summary", {}, `SHA-256 ${problem.payload_sha256}`),
    h("pre", { "data-signing-payload": "" }, JSON.stringify(problem.payload, null, 2)));
}

/**
 * POST a signing act (prescription, revision, review, EMR sign-off) and sign, on this device, exactly what the
 * hospital prepared; `shown` (optional) receives the payload before it is signed. Resolves to the final answer.
 */
export async function signedPost(path, body, shown = null) {
  const device = await signingDevice();
  const first = { ...body, signature: { device_id: device.deviceId } };
  try {
    return await api(path, { method: "POST", json: first });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 428) throw error;
    const problem = error.problem;
    if (shown) clear(shown, payloadNode(problem));
    const input = `${problem.jws_header}.${problem.payload_b64}`;
    const jws = `${input}.${await signText(device.privateKey, input)}`;
    return api(path, { method: "POST", json: { ...body, signature: {
      device_id: device.deviceId, signing_request: problem.signing_request, jws } } });
  }
}
