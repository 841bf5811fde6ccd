// The page explaining a rule (a problem's `type` URI): server-rendered; the script only wires the header.
import { startPage } from "../page.js";

await startPage();
