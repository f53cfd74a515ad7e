package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
)

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Dennis", "Linus",
		"Frances", "John", "Radia", "Tim", "Katherine", "Leslie", "Niklaus", "Bjarne", "Guido", "Anders", "Sophie",
		"Hedy", "Claude", "Vint", "Whitfield", "Shafi", "Silvio", "Judea", "Yann", "Fei-Fei", "Andrew", "Geoffrey"}
	lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Ritchie",
		"Torvalds", "Allen", "McCarthy", "Perlman", "Berners-Lee", "Johnson", "Lamport", "Wirth", "Stroustrup", "Rossum",
		"Hejlsberg", "Wilson", "Lamarr", "Shannon", "Cerf", "Diffie", "Goldwasser", "Micali", "Pearl", "LeCun", "Li",
		"Ng", "Hinton", "Backus", "Kay", "Engelbart", "Sutherland", "Hoare", "Milner", "Iverson", "Kernighan"}
	domains = []string{"example.com", "analytical.org", "navy.mil", "bell-labs.com", "parc.io", "acme.co", "globex.net", "initech.biz"}
	plans   = []string{"free", "pro", "team", "enterprise"}
	stages  = []string{"lead", "qualified", "proposal", "won", "lost"}
)

type seedData struct {
	workspace string
	companies []string
	emails    []string // a sample of seeded emails
	contacts  []string // a sample of seeded contact ids
}

// Most contacts get a generated name from a large vocabulary, as in a real CRM; three in
// ten get one of the few famous names above, which makes those words very common (each on
// about 1% of contacts): the worst case for search.
var (
	syllables = []string{"ka", "ri", "mo", "tan", "el", "vi", "so", "ra", "lu", "den", "mar", "an", "is", "to", "bel", "no", "ha", "gi", "per", "sa"}
)

func generatedName(r *rand.Rand, parts int) string {
	name := ""
	for range parts {
		name += syllables[r.IntN(len(syllables))]
	}
	return string(name[0]-32) + name[1:]
}

func personName(r *rand.Rand) (first, last string) {
	if r.IntN(10) < 3 {
		return firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	}
	return generatedName(r, 2), generatedName(r, 3)
}

// contactRow generates the i-th contact of a run (deterministic).
func contactRow(r *rand.Rand, run string, i int) map[string]any {
	first, last := personName(r)
	return map[string]any{
		"email":      fmt.Sprintf("%s.%s.%s%d@%s", lower(first), lower(last), run, i, domains[r.IntN(len(domains))]),
		"first_name": first, "last_name": last,
		"phone":    fmt.Sprintf("+1415%07d", r.IntN(10_000_000)),
		"metadata": map[string]any{"plan": plans[r.IntN(len(plans))], "seats": r.IntN(500)},
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// copier is a connection or a pool: what COPY can run on.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// copyContacts loads rows into workspace ws with COPY, the fastest way Postgres has; half of
// them get one of companies, picked with r, when there are companies.
func copyContacts(ctx context.Context, db copier, ws string, rows []map[string]any, companies []string, r *rand.Rand) error {
	src := make([][]any, len(rows))
	for i, row := range rows {
		var company any
		if len(companies) > 0 && i%2 == 0 {
			company = companies[r.IntN(len(companies))]
		}
		src[i] = []any{store.NewID("con_"), ws, "live", row["email"], row["first_name"], row["last_name"], row["phone"], company, row["metadata"]}
	}
	_, err := db.CopyFrom(ctx, pgx.Identifier{"contacts"},
		[]string{"id", "workspace_id", "mode", "email", "first_name", "last_name", "phone", "company_id", "metadata"},
		pgx.CopyFromRows(src))
	return err
}

// seed fills the workspace "bench" with contacts, companies and deals.
func (b *bench) seed(ctx context.Context) error {
	_, caller, err := b.as(ctx, "bench")
	if err != nil {
		return err
	}
	ws := caller.WorkspaceID
	b.data.workspace = ws
	if b.opts.Reuse {
		return b.load(ctx, ws)
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	nCompanies, nDeals := max(b.opts.Contacts/20, 1), max(b.opts.Contacts/5, 1)
	companies := make([][]any, nCompanies)
	for i := range companies {
		id := store.NewID("cmp_")
		b.data.companies = append(b.data.companies, id)
		name := lastNames[r.IntN(len(lastNames))] + " " + []string{"Labs", "Systems", "Industries", "Holdings", "Works"}[r.IntN(5)]
		companies[i] = []any{id, ws, "live", name, fmt.Sprintf("%s%d.%s", lower(lastNames[r.IntN(len(lastNames))]), i, domains[r.IntN(len(domains))]), map[string]any{}}
	}
	if _, err := b.conn.CopyFrom(ctx, pgx.Identifier{"companies"}, []string{"id", "workspace_id", "mode", "name", "domain", "metadata"}, pgx.CopyFromRows(companies)); err != nil {
		return err
	}
	const chunk = 50_000
	for done := 0; done < b.opts.Contacts; done += chunk {
		rows := make([]map[string]any, min(chunk, b.opts.Contacts-done))
		for i := range rows {
			rows[i] = contactRow(r, "s", done+i)
		}
		if err := copyContacts(ctx, b.conn, ws, rows, b.data.companies, r); err != nil {
			return err
		}
		b.log.Info("seeding contacts", "done", done+len(rows))
	}
	deals, dealIDs := make([][]any, nDeals), make([]string, nDeals)
	for i := range deals {
		close := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(730))
		dealIDs[i] = store.NewID("deal_")
		deals[i] = []any{dealIDs[i], ws, "live", "Deal " + strconv.Itoa(i) + " " + lastNames[r.IntN(len(lastNames))],
			int64(r.IntN(10_000_000)), "USD", "sales", stages[r.IntN(len(stages))], close, b.data.companies[r.IntN(nCompanies)], map[string]any{}}
	}
	if _, err := b.conn.CopyFrom(ctx, pgx.Identifier{"deals"}, []string{"id", "workspace_id", "mode", "title", "value_cents", "currency",
		"pipeline", "stage", "close_date", "company_id", "metadata"}, pgx.CopyFromRows(deals)); err != nil {
		return err
	}
	if err := b.seedActivities(ctx, ws, r); err != nil {
		return err
	}
	if err := b.seedAssociations(ctx, ws, dealIDs, r); err != nil {
		return err
	}
	// Vacuumed as well as analyzed: a table bulk-loaded with COPY has no visibility map and
	// is due for autovacuum, which would otherwise vacuum it (all its indexes, three of
	// them GIN) on the cores the first measurements run on.
	if _, err := b.conn.Exec(ctx, "VACUUM (ANALYZE) contacts, companies, deals, activities, associations"); err != nil {
		return err
	}
	if _, err := b.conn.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	b.log.Info("seeded", "contacts", b.opts.Contacts, "companies", nCompanies, "deals", nDeals, "activities", b.opts.Contacts/4,
		"associations", b.opts.Contacts/4, "took", time.Since(start).Round(time.Second))
	return b.load(ctx, ws)
}

var subjects = []string{"Intro call", "Pricing follow-up", "Contract review", "Demo", "Kickoff meeting", "Renewal", "Support escalation", "Quarterly review"}

// someContacts returns the ids of n contacts of workspace ws, picked at random.
func (b *bench) someContacts(ctx context.Context, ws string, n int) ([]string, error) {
	rows, err := b.conn.Query(ctx, `SELECT id FROM contacts WHERE workspace_id = $1 ORDER BY random() LIMIT $2`, ws, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// seedActivities adds one activity per four contacts, on contacts of the workspace.
func (b *bench) seedActivities(ctx context.Context, ws string, r *rand.Rand) error {
	contacts, err := b.someContacts(ctx, ws, b.opts.Contacts/4)
	if err != nil {
		return err
	}
	types := []string{"note", "email", "call", "meeting", "task"}
	src := make([][]any, len(contacts))
	for i, c := range contacts {
		src[i] = []any{store.NewID("act_"), ws, "live", types[r.IntN(len(types))], subjects[r.IntN(len(subjects))],
			"Talked about " + lastNames[r.IntN(len(lastNames))] + " and the " + plans[r.IntN(len(plans))] + " plan.", c, map[string]any{}}
	}
	_, err = b.conn.CopyFrom(ctx, pgx.Identifier{"activities"}, []string{"id", "workspace_id", "mode", "type", "subject", "body", "contact_id", "metadata"}, pgx.CopyFromRows(src))
	return err
}

var roles = []string{"champion", "decision maker", "billing"}

// seedAssociations links one contact in four to a deal, a quarter of the edges without a
// label, so that a contact's read finds edges to list as it would in use.
func (b *bench) seedAssociations(ctx context.Context, ws string, deals []string, r *rand.Rand) error {
	contacts, err := b.someContacts(ctx, ws, b.opts.Contacts/4)
	if err != nil {
		return err
	}
	src := make([][]any, len(contacts))
	for i, c := range contacts {
		var label any
		if j := r.IntN(len(roles) + 1); j < len(roles) {
			label = roles[j]
		}
		src[i] = []any{store.NewID("asc_"), ws, "live", "contact", c, "deal", deals[r.IntN(len(deals))], label}
	}
	_, err = b.conn.CopyFrom(ctx, pgx.Identifier{"associations"}, []string{"id", "workspace_id", "mode", "from_type", "from_id", "to_type", "to_id", "label"},
		pgx.CopyFromRows(src))
	return err
}

// load reads back samples of what seed made: the requests pick their ids and emails from
// them.
func (b *bench) load(ctx context.Context, ws string) error {
	rows, err := b.conn.Query(ctx, `SELECT id FROM companies WHERE workspace_id = $1 AND mode = 'live'`, ws)
	if err != nil {
		return err
	}
	if b.data.companies, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	rows, err = b.conn.Query(ctx, `SELECT id, email FROM contacts WHERE workspace_id = $1 AND mode = 'live' AND email LIKE '%.s%'
		ORDER BY random() LIMIT 1000`, ws)
	if err != nil {
		return err
	}
	b.data.contacts, b.data.emails = nil, nil
	var id, email string
	if _, err := pgx.ForEachRow(rows, []any{&id, &email}, func() error {
		b.data.contacts, b.data.emails = append(b.data.contacts, id), append(b.data.emails, email)
		return nil
	}); err != nil {
		return err
	}
	if len(b.data.emails) == 0 || len(b.data.companies) == 0 {
		return fmt.Errorf("--reuse: workspace bench has no seeded contacts; run once without --reuse")
	}
	if b.opts.Reuse { // the report gives the size measured at
		return b.conn.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = $1 AND mode = 'live'`, ws).Scan(&b.opts.Contacts)
	}
	return nil
}
