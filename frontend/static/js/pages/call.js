// The video call of a visit on its own page (/visits/{id}/call), for its patient or its doctor. The page names
// no role: the API decides who may join (anyone else is refused, and the page says so); without a session the
// page asks to log in first. startPage keeps the token renewed, since a call outlives one token.
import { startCall } from "../call.js";
import { startPage } from "../page.js";

await startPage();
await startCall(document.body, location.pathname.split("/")[2]);
