// Node 18 or newer: node quickstart.mjs
const base = process.env.RELM_URL ?? "{{.URL}}"
const auth = { Authorization: `Bearer ${process.env.RELM_KEY}` }

// Create a contact. Retrying with the same Idempotency-Key
// replays the first response instead of creating another.
const res = await fetch(`${base}/v1/contacts`, {
  method: "POST",
  headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": "create-ada-1" },
  body: JSON.stringify({ email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" }),
})
const contact = await res.json()
if (!res.ok) throw new Error(`${contact.error.code}: ${contact.error.message}`)
console.log(contact.id)

// List contacts at example.com, 10 a page.
const query = new URLSearchParams({ "filter[email][ilike]": "%@example.com", limit: "10" })
const page = await (await fetch(`${base}/v1/contacts?${query}`, { headers: auth })).json()
console.log(page.data.map(c => c.email), page.has_more, page.next_cursor)
