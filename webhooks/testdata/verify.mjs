// Runs the "Verify a webhook (Node)" snippet of Relm's reference docs (llms-full.txt),
// verbatim, with req.headers["relm-signature"] from argv[2], secret from argv[3] and
// rawBody (a Buffer, as express.raw() gives) from stdin. Prints "ok" when the snippet
// accepts; when it refuses it throws, so node exits non-zero. Used by verifiers_test.go.
import { readFileSync } from "node:fs"
const req = { headers: { "relm-signature": process.argv[2] } }
const secret = process.argv[3]
const rawBody = readFileSync(0)

// --- begin reference snippet ---
import crypto from "node:crypto"
const [t, v1] = req.headers["relm-signature"].split(",").map(p => p.split("=")[1])
const expected = crypto.createHmac("sha256", secret).update(`${t}.${rawBody}`).digest("hex")
if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(v1))) throw new Error("bad sig");
// --- end reference snippet ---

console.log("ok")
