package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
)

// importComparison imports the same rows through batch_upsert_contacts (500 per call, with
// dedup on email and its events) and with a raw COPY, each into an empty workspace.
func (b *bench) importComparison(ctx context.Context, out io.Writer) error {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]map[string]any, b.cfg.importRows)
	for i := range rows {
		rows[i] = contactRow(r, "i", i)
	}
	if _, err := b.conn.Exec(ctx, "CHECKPOINT"); err != nil { // start both runs from the same state
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	batchCtx, _, err := b.as(ctx, "import-batch-"+run)
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < len(rows); i += 500 {
		if _, err := b.call(batchCtx, "batch_upsert_contacts", map[string]any{"contacts": rows[i:min(i+500, len(rows))], "dedup_on": []string{"email"}}); err != nil {
			return fmt.Errorf("batch import: %w", err)
		}
	}
	batch := time.Since(start)
	b.plans.logSpent(b.log, "batch import")

	_, copyCaller, err := b.as(ctx, "import-copy-"+run)
	if err != nil {
		return err
	}
	start = time.Now()
	if err := copyContacts(ctx, b.conn, copyCaller.WorkspaceID, rows, nil, r); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	raw := time.Since(start)
	batchRate, copyRate := float64(len(rows))/batch.Seconds(), float64(len(rows))/raw.Seconds()
	fmt.Fprintf(out, "## Batch import vs raw COPY\n\n%d contacts into a new workspace of the seeded database (so the table already holds %d contacts), same rows, same table and indexes.\n\n", len(rows), b.cfg.contacts)
	fmt.Fprintf(out, "| path | time | rows/s |\n| --- | --- | --- |\n")
	fmt.Fprintf(out, "| `POST /v1/contacts/batch` capability (500 rows per call, dedup on email, events recorded) | %s | %.0f |\n", batch.Round(time.Millisecond), batchRate)
	fmt.Fprintf(out, "| raw `COPY` into `contacts` (no events) | %s | %.0f |\n\n", raw.Round(time.Millisecond), copyRate)
	fmt.Fprintf(out, "Batch import runs at **%.0f%%** of raw COPY speed (target: at least 50%%).\n\n", 100*batchRate/copyRate)
	return nil
}

// query is one kind of request measured for latency.
type query struct {
	name, tool string
	args       func(r *rand.Rand) map[string]any
}

func (b *bench) queries() []query {
	pick := func(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
	return []query{
		{"search: a contact's first name", "search", func(r *rand.Rand) map[string]any {
			first, _ := personName(r)
			return map[string]any{"q": first, "limit": 20}
		}},
		{"search: first name + start of last name", "search", func(r *rand.Rand) map[string]any {
			first, last := personName(r)
			return map[string]any{"q": first + " " + last[:min(3, len(last))], "limit": 20}
		}},
		{"search: a very common first name (worst case)", "search", func(r *rand.Rand) map[string]any {
			return map[string]any{"q": pick(r, firstNames), "limit": 20}
		}},
		{"search: email fragment", "search", func(r *rand.Rand) map[string]any {
			e := pick(r, b.data.emails)
			return map[string]any{"q": e[strings.Index(e, ".")+1 : strings.Index(e, "@")], "limit": 20}
		}},
		{"search: company name, companies only", "search", func(r *rand.Rand) map[string]any {
			return map[string]any{"q": pick(r, lastNames) + " lab", "types": []string{"company"}, "limit": 20}
		}},
		{"list contacts by email", "list_contacts", func(r *rand.Rand) map[string]any { return map[string]any{"email": pick(r, b.data.emails)} }},
		{"list contacts by company", "list_contacts", func(r *rand.Rand) map[string]any {
			return map[string]any{"company_id": pick(r, b.data.companies), "limit": 50}
		}},
		{"list contacts, first page", "list_contacts", func(r *rand.Rand) map[string]any { return map[string]any{"limit": 50} }},
		{"list contacts by metadata plan", "list_contacts", func(r *rand.Rand) map[string]any {
			return map[string]any{"filter": map[string]any{"metadata->>plan": pick(r, plans)}, "limit": 50}
		}},
		{"list deals by stage and min value", "list_deals", func(r *rand.Rand) map[string]any {
			return map[string]any{"stage": pick(r, stages), "filter": map[string]any{"value_cents": map[string]any{"gte": r.IntN(9_000_000)}}, "limit": 50}
		}},
		{"list deals by company", "list_deals", func(r *rand.Rand) map[string]any { return map[string]any{"company_id": pick(r, b.data.companies)} }},
	}
}

// latencies runs each query kind many times with varying arguments and reports
// percentiles of the full capability call (validation, transaction, SQL, encoding).
func (b *bench) latencies(ctx context.Context, out io.Writer) error {
	ctx, _, err := b.as(ctx, "bench")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "## Latency at %d contacts\n\n%d calls per row, each with different arguments, through the capability (what REST and MCP both run), one at a time.\n\n", b.cfg.contacts, b.cfg.queries)
	fmt.Fprintf(out, "| query | p50 | p95 | p99 |\n| --- | --- | --- | --- |\n")
	r := rand.New(rand.NewPCG(5, 6))
	for _, q := range b.queries() {
		for range 5 { // warm up
			if _, err := b.call(ctx, q.tool, q.args(r)); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
		}
		times := make([]time.Duration, b.cfg.queries)
		for i := range times {
			args := q.args(r)
			start := time.Now()
			if _, err := b.call(ctx, q.tool, args); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			times[i] = time.Since(start)
		}
		slices.Sort(times)
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", q.name, pct(times, 50), pct(times, 95), pct(times, 99))
	}
	fmt.Fprintln(out)
	return nil
}

func pct(sorted []time.Duration, p int) string {
	d := sorted[min(len(sorted)-1, len(sorted)*p/100)]
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// planRecorder remembers the first arguments of every distinct read statement run, and
// the time spent in each statement, for the log.
type planRecorder struct {
	mu        sync.Mutex
	seen      map[string]bool
	list      []recorded
	spent     map[string]time.Duration
	noSeqScan map[*pgx.Conn]bool
	tenant    map[*pgx.Conn]string
}

type startKey struct{}

type started struct {
	sql string
	at  time.Time
}

type recorded struct {
	sql       string
	args      []any
	noSeqScan bool   // run with SET LOCAL enable_seqscan = off, so EXPLAIN it that way
	tenant    string // the set_config of its transaction's BEGIN: EXPLAIN it as that tenant
}

func (p *planRecorder) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s := strings.TrimSpace(d.SQL)
	ctx = context.WithValue(ctx, startKey{}, started{sql: oneLine(s), at: time.Now()})
	upper := strings.ToUpper(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case strings.HasPrefix(upper, "BEGIN; SELECT SET_CONFIG("):
		if p.tenant == nil {
			p.tenant = map[*pgx.Conn]string{}
		}
		p.tenant[conn] = strings.TrimPrefix(s, "BEGIN; ")
	case upper == "SET LOCAL ENABLE_SEQSCAN = OFF":
		if p.noSeqScan == nil {
			p.noSeqScan = map[*pgx.Conn]bool{}
		}
		p.noSeqScan[conn] = true
	case upper == "COMMIT" || upper == "ROLLBACK":
		delete(p.noSeqScan, conn)
		delete(p.tenant, conn)
	case upper == "SET LOCAL ENABLE_SEQSCAN = ON":
		delete(p.noSeqScan, conn)
	case strings.HasPrefix(upper, "SELECT") && !strings.Contains(upper, "FOR UPDATE") && !p.seen[s]:
		// plans of reads are what the benchmark checks
		p.seen[s] = true
		p.list = append(p.list, recorded{sql: s, args: d.Args, noSeqScan: p.noSeqScan[conn], tenant: p.tenant[conn]})
	}
	return ctx
}

func (p *planRecorder) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	st, ok := ctx.Value(startKey{}).(started)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.spent == nil {
		p.spent = map[string]time.Duration{}
	}
	p.spent[st.sql[:min(len(st.sql), 60)]] += time.Since(st.at)
}

func (p *planRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return context.WithValue(ctx, startKey{}, started{sql: "(pipelined batch)", at: time.Now()})
}

func (p *planRecorder) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (p *planRecorder) TraceBatchEnd(ctx context.Context, c *pgx.Conn, _ pgx.TraceBatchEndData) {
	p.TraceQueryEnd(ctx, c, pgx.TraceQueryEndData{})
}

func (p *planRecorder) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	return context.WithValue(ctx, startKey{}, started{sql: "COPY " + d.TableName.Sanitize(), at: time.Now()})
}

func (p *planRecorder) TraceCopyFromEnd(ctx context.Context, c *pgx.Conn, _ pgx.TraceCopyFromEndData) {
	p.TraceQueryEnd(ctx, c, pgx.TraceQueryEndData{})
}

// logSpent logs where statement time went since the last call, and resets it.
func (p *planRecorder) logSpent(log interface{ Info(string, ...any) }, phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for sql, d := range p.spent {
		log.Info("statement time", "phase", phase, "sql", sql, "total", d.Round(time.Millisecond))
	}
	p.spent = nil
}

var tenantTables = []string{"contacts", "companies", "deals", "activities", "events", "api_keys", "pipelines", "pipeline_stages"}

// planReport EXPLAINs every read the latency run issued and lists sequential scans of
// tenant tables.
func (b *bench) planReport(ctx context.Context, out io.Writer) error {
	fmt.Fprintf(out, "## Query plans\n\nEvery distinct read statement issued above, EXPLAINed with its first arguments and the settings it ran with.\n\n")
	var bad []string
	for _, q := range b.plans.list {
		var doc []map[string]any
		raw, err := b.explain(ctx, q)
		if err != nil {
			return fmt.Errorf("explain %s: %w", q.sql, err)
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return err
		}
		for _, scan := range seqScans(doc[0]["Plan"].(map[string]any)) {
			if slices.Contains(tenantTables, scan) {
				bad = append(bad, fmt.Sprintf("- `%s` in: `%s`", scan, oneLine(q.sql)))
			}
		}
	}
	bodies, err := b.definerPlans(ctx)
	if err != nil {
		return err
	}
	for _, body := range bodies {
		for _, scan := range seqScans(body.plan) {
			if slices.Contains(tenantTables, scan) {
				bad = append(bad, fmt.Sprintf("- `%s` in the body of `%s`", scan, body.name))
			}
		}
	}
	sort.Strings(bad)
	checked := fmt.Sprintf("%d statements and the bodies of %d definer functions they call", len(b.plans.list), len(bodies))
	if len(bad) == 0 {
		fmt.Fprintf(out, "%s checked: **no sequential scan of a tenant table.**\n", checked)
		return nil
	}
	fmt.Fprintf(out, "%s checked; sequential scans of tenant tables:\n\n%s\n", checked, strings.Join(bad, "\n"))
	return nil
}

// definerBody is the plan of the body of a SECURITY DEFINER function.
type definerBody struct {
	name string
	plan map[string]any
}

// definerPlans EXPLAINs the bodies of the definer functions search calls. EXPLAIN of the
// calling statement shows only a Function Scan: a SQL function's body is planned on its own,
// as the function's owner (no row-level security), with its arguments as parameters of
// unknown value and the function's own settings (enable_seqscan off), so each body is
// prepared as such a generic plan and EXPLAINed with arguments like the latency run's, in
// the bench workspace.
func (b *bench) definerPlans(ctx context.Context) ([]definerBody, error) {
	_, c, err := b.as(ctx, "bench")
	if err != nil {
		return nil, err
	}
	// A word of an email, as the "email fragment" searches use; EXECUTE takes its arguments
	// as SQL, not as protocol parameters, so it is spelled out (letters and digits only).
	email := b.data.emails[0]
	word := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, email[strings.Index(email, ".")+1:strings.Index(email, "@")])
	query, pattern := "to_tsquery('simple', '"+word+":*')", "'%"+word+"%'"
	calls := []struct{ name, args string }{
		{"relm_search_contacts", query + ", " + pattern + ", 1000"},
		{"relm_search_companies", query + ", " + pattern + ", 1000"},
		{"relm_search_deals", query + ", 1000"},
		{"relm_search_activities", query + ", 1000"},
	}
	var bodies []definerBody
	for _, call := range calls {
		var raw []byte
		err := pgx.BeginFunc(ctx, b.conn, func(tx pgx.Tx) error {
			var src, types string
			if err := tx.QueryRow(ctx, `SELECT prosrc, array_to_string(proargtypes::regtype[], ', ') FROM pg_proc WHERE proname = $1`,
				call.name).Scan(&src, &types); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true)`,
				c.WorkspaceID, string(c.Mode)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "PREPARE definer_body ("+types+") AS "+src); err != nil {
				return err
			}
			defer tx.Exec(ctx, "DEALLOCATE definer_body")
			return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE definer_body ("+call.args+")").Scan(&raw)
		})
		if err != nil {
			return nil, fmt.Errorf("explain the body of %s: %w", call.name, err)
		}
		var doc []map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, err
		}
		bodies = append(bodies, definerBody{call.name, doc[0]["Plan"].(map[string]any)})
	}
	return bodies, nil
}

// explain returns the JSON plan of q under the settings it ran with, as the server's role
// and tenant, so the plan is the one row-level security allows.
func (b *bench) explain(ctx context.Context, q recorded) ([]byte, error) {
	var raw []byte
	err := pgx.BeginFunc(ctx, b.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+store.AppRole); err != nil {
			return err
		}
		if q.tenant != "" {
			if _, err := tx.Exec(ctx, q.tenant); err != nil {
				return err
			}
		}
		if q.noSeqScan {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw)
	})
	return raw, err
}

func seqScans(plan map[string]any) []string {
	var found []string
	if plan["Node Type"] == "Seq Scan" {
		found = append(found, fmt.Sprint(plan["Relation Name"]))
	}
	if kids, ok := plan["Plans"].([]any); ok {
		for _, k := range kids {
			found = append(found, seqScans(k.(map[string]any))...)
		}
	}
	return found
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
