package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
)

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
func (b *bench) planReport(ctx context.Context) error {
	b.rep.printf("## Query plans\n\nEvery distinct read statement the in-process measurements issued, EXPLAINed with its first arguments and the settings it ran with.\n\n")
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
		b.rep.printf("%s checked: **no sequential scan of a tenant table.**\n", checked)
		return nil
	}
	b.rep.printf("%s checked; sequential scans of tenant tables:\n\n%s\n", checked, strings.Join(bad, "\n"))
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
