// Runs the Node verifier of docs/webhooks.md (the code between the markers is that
// example, verbatim) on the relm-signature header in argv[2], the secret in argv[3] and
// the raw body from stdin. Prints "ok", or the error and exits 1. Used by
// verifiers_test.go.
import { readFileSync } from "node:fs"

// --- begin docs/webhooks.md ---
import crypto from "node:crypto"

// Throws unless `header` (the relm-signature value) signs `rawBody` (the body exactly as
// received: a Buffer or string) with `secret`, within `toleranceSeconds` of now.
export function verifyRelmSignature(header, rawBody, secret, toleranceSeconds = 300) {
  let t
  const signatures = []
  for (const part of String(header ?? "").split(",")) {
    const [key, ...rest] = part.trim().split("=")
    if (key === "t") t = rest.join("=")
    if (key === "v1") signatures.push(Buffer.from(rest.join("=")))
  }
  if (!/^\d+$/.test(t ?? "") || signatures.length === 0) throw new Error("malformed relm-signature header")
  const expected = Buffer.from(crypto.createHmac("sha256", secret).update(`${t}.`).update(rawBody).digest("hex"))
  // Check every v1 entry: during a secret rotation the header carries one per secret.
  if (!signatures.some(s => s.length === expected.length && crypto.timingSafeEqual(s, expected))) {
    throw new Error("no matching signature")
  }
  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) throw new Error("timestamp outside tolerance")
}
// --- end docs/webhooks.md ---

try {
  verifyRelmSignature(process.argv[2], readFileSync(0), process.argv[3])
  console.log("ok")
} catch (err) {
  console.log(err.message)
  process.exit(1)
}
