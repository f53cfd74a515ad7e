package bench

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// The operations measured over each surface.
const (
	opGet    = "get contact by id"
	opList   = "list contacts by email"
	opCreate = "create contact"
	opSearch = "search a first name"
	opBatch  = "batch import, 100 rows per request"
)

// OperationTools are the tools of the operations measured over HTTP, in order; Options.Ops
// picks some of them.
var OperationTools = []string{"get_contact", "list_contacts", "create_contact", "search", "batch_upsert_contacts"}

// batchRows is how many contacts one batch-import request carries (opBatch says it too).
const batchRows = 100

// operation is one request kind, the same on every surface: its capability and arguments
// (MCP), its REST route, and the SQL that does the same work straight on PostgreSQL.
type operation struct {
	name   string
	tool   string
	args   func(r *rand.Rand) map[string]any
	rest   func(args map[string]any) (method, path string, status int)
	raw    rawCall
	rows   int // contacts written per request, for batch import
	writes bool
}

// uniqueEmails makes emails no earlier request or run used.
type uniqueEmails struct {
	run  string
	next atomic.Int64
}

func newUniqueEmails() *uniqueEmails {
	return &uniqueEmails{run: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

func (u *uniqueEmails) email() string {
	return fmt.Sprintf("load-%s-%d@example.com", u.run, u.next.Add(1))
}

// operations are the measured request kinds, drawing ids and emails from the seeded data.
func (b *bench) operations() []operation {
	pick := func(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
	emails := newUniqueEmails()
	newContact := func(r *rand.Rand) map[string]any {
		first, last := personName(r)
		return map[string]any{"email": emails.email(), "first_name": first, "last_name": last}
	}
	return []operation{
		{name: opGet, tool: "get_contact",
			args: func(r *rand.Rand) map[string]any { return map[string]any{"id": pick(r, b.data.contacts)} },
			rest: func(a map[string]any) (string, string, int) {
				return "GET", "/v1/contacts/" + url.PathEscape(a["id"].(string)), 200
			},
			raw: b.rawGet},
		{name: opList, tool: "list_contacts",
			args: func(r *rand.Rand) map[string]any { return map[string]any{"email": pick(r, b.data.emails)} },
			rest: func(a map[string]any) (string, string, int) {
				return "GET", "/v1/contacts?email=" + url.QueryEscape(a["email"].(string)), 200
			},
			raw: b.rawList},
		{name: opCreate, tool: "create_contact", args: newContact, writes: true,
			rest: func(map[string]any) (string, string, int) { return "POST", "/v1/contacts", 201 },
			raw:  b.rawCreate},
		{name: opSearch, tool: "search",
			args: func(r *rand.Rand) map[string]any {
				first, _ := personName(r)
				return map[string]any{"q": first, "limit": 20}
			},
			rest: func(a map[string]any) (string, string, int) {
				return "GET", "/v1/search?limit=20&q=" + url.QueryEscape(a["q"].(string)), 200
			},
			raw: b.rawSearch},
		{name: opBatch, tool: "batch_upsert_contacts", rows: batchRows, writes: true,
			args: func(r *rand.Rand) map[string]any {
				rows := make([]map[string]any, batchRows)
				for i := range rows {
					rows[i] = contactRow(r, "", 0)
					rows[i]["email"] = emails.email()
				}
				return map[string]any{"contacts": rows, "dedup_on": []string{"email"}}
			},
			rest: func(map[string]any) (string, string, int) { return "POST", "/v1/contacts/batch", 200 },
			raw:  b.rawBatch},
	}
}
