// Answering a liveness challenge (FACE-02, docs/face-liveness.md), the one way every page does it: the
// verification page before practice and the re-verification inside a video call.
//
// POST /api/me/face-challenges gives the moves in a random order; the page shows "rest", then each move in turn,
// and takes ONE frame of the camera at the end of each: 1 + moves frames (4 for the default 3 moves), in about
// 5 s. One frame per move is all the server's judge uses (each frame's pose against the first), and every frame
// is identified against the enrolment, so each further frame costs the server a whole face encoding: the burst
// stays within three single verifications (issue 19, bench/face_verify.py). The burst goes with the nonce.
import { api } from "./api.js";

export const REST_MS = 800; // to settle in front of the camera before the reference frame
export const MOVE_MS = 1300; // to make the move and hold it: the frame is taken at its end

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Wait until the camera has shown a new frame (at most half a second), so no two captures are the same picture.
function nextFrame(video) {
  if (!video.requestVideoFrameCallback) return sleep(100);
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 500);
    video.requestVideoFrameCallback(() => { clearTimeout(timer); resolve(); });
  });
}

// `capture()` gives the camera's current picture as a JPEG Blob; `showStep(step)` shows the move asked for
// ("rest", a move of the challenge, or null when the frames are taken); `checking()` says the burst is sent.
// Resolves to the hospital's answer (a fresh token), or rejects with its problem (FACE-02, FACE-04 ...).
export async function answerChallenge({ video, capture, showStep, checking }) {
  const challenge = await api("/api/me/face-challenges", { method: "POST" });
  const frames = [];
  const take = async () => { await nextFrame(video); frames.push(await capture()); };
  showStep("rest");
  await sleep(REST_MS);
  // A hospital asking for more frames than 1 + moves gets them as more resting frames first (the judge reads
  // rests as no move).
  const rests = Math.max(1, (challenge.min_frames || 0) - challenge.steps.length);
  for (let index = 0; index < rests; index += 1) await take();
  for (const step of challenge.steps) {
    showStep(step);
    await sleep(MOVE_MS);
    await take();
  }
  showStep(null);
  if (checking) checking();
  const form = new FormData();
  form.append("nonce", challenge.nonce);
  frames.forEach((frame, index) => form.append("frames", frame, `frame${index}.jpg`));
  return api(`/api/me/face-challenges/${challenge.challenge_id}/burst`, { method: "POST", form });
}
