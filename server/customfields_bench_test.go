package server_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

var (
	benchContacts = flag.Int("bench-contacts", 200_000, "contacts BenchmarkCustomFieldFilters seeds in the measured workspace")
	benchExplain  = flag.Bool("bench-explain", false, "log the plan of each query BenchmarkCustomFieldFilters measures (with -v)")
)

// lastList remembers the last contact list statement a store ran, to EXPLAIN it.
type lastList struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastList) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM contacts WHERE") && strings.Contains(d.SQL, "ORDER BY created_at DESC") {
		l.mu.Lock()
		l.sql, l.args = d.SQL, d.Args
		l.mu.Unlock()
	}
	return ctx
}

func (l *lastList) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkCustomFieldFilters measures list_contacts filtered on custom fields in a large
// workspace (-bench-contacts, default 200,000, plus half as many in another workspace),
// through the capability, under three index set-ups: without the GIN index on metadata,
// with it (as migrated), and with per-field expression indexes. docs/api.md reports a run:
//
//	go test ./server -run '^$' -bench CustomFieldFilters -benchtime 50x
func BenchmarkCustomFieldFilters(b *testing.B) {
	ctx := context.Background()
	url := pgtest.NewDatabase(b)
	last := &lastList{}
	s, err := store.Open(ctx, url, store.WithTracer(last))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	admin, err := store.OpenAdmin(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	ws, _, err := admin.EnsureWorkspace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	noise, _, err := admin.EnsureWorkspace(ctx, "noise")
	if err != nil {
		b.Fatal(err)
	}
	ctx = auth.WithCaller(ctx, auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live})
	reg, err := tools.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), tools.All(s)...)
	if err == nil {
		err = reg.EnableCursors(server.NewSecretKey())
	}
	if err != nil {
		b.Fatal(err)
	}
	call := func(name string, args map[string]any) any {
		e, _ := reg.Lookup(name)
		out, cerr := e.Call(ctx, args)
		if cerr != nil {
			b.Fatalf("%s: %v", name, cerr)
		}
		return out
	}
	for _, f := range []map[string]any{
		{"key": "plan", "type": "select", "options": []any{"free", "pro", "enterprise", "legacy", "trial"}},
		{"key": "seats", "type": "number"},
		{"key": "renewal", "type": "date"},
	} {
		f["object_type"], f["label"] = "contact", f["key"]
		call("create_custom_field", f)
	}
	// plan: free 60%, pro 30%, enterprise ~10%, legacy 0.1%, trial never; seats 1..1000;
	// renewal one of 1461 days from 2025-01-01; one row in ten has no metadata at all.
	seed := func(workspace string, n int) {
		if _, err := conn.Exec(ctx, `SELECT setseed(0.42)`); err != nil {
			b.Fatal(err)
		}
		_, err := conn.Exec(ctx, `
			INSERT INTO contacts (id, workspace_id, mode, first_name, metadata, created_at)
			SELECT 'con_' || md5($1 || g), $1, 'live', 'c' || g,
			       CASE WHEN g % 10 = 0 THEN '{}'::jsonb ELSE jsonb_build_object(
			           'plan', CASE WHEN g % 1000 = 1 THEN 'legacy' WHEN r < 0.6 THEN 'free' WHEN r < 0.9 THEN 'pro' ELSE 'enterprise' END,
			           'seats', 1 + (g * 7919) % 1000,
			           'renewal', to_char(date '2025-01-01' + ((g * 104729) % 1461)::int, 'YYYY-MM-DD')) END,
			       now() - g * interval '1 second'
			FROM (SELECT g::bigint AS g, random() AS r FROM generate_series(1, $2::int) g) x`, workspace, n)
		if err != nil {
			b.Fatal(err)
		}
	}
	seed(ws.ID, *benchContacts)
	seed(noise.ID, *benchContacts/2)
	if _, err := conn.Exec(ctx, `ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}

	queries := []struct {
		name   string
		filter map[string]any
	}{
		{"plan=pro (30%)", map[string]any{"metadata->>plan": "pro"}},
		{"plan=legacy (0.1%)", map[string]any{"metadata->>plan": "legacy"}},
		{"plan=trial (none)", map[string]any{"metadata->>plan": "trial"}},
		{"seats>=10 (89%)", map[string]any{"metadata->>seats": map[string]any{"gte": 10}}},
		{"seats>=995 (0.5%)", map[string]any{"metadata->>seats": map[string]any{"gte": 995}}},
		{"renewal<2027-01-01 (50%)", map[string]any{"metadata->>renewal": map[string]any{"lt": "2027-01-01"}}},
		{"renewal<2025-01-08 (0.4%)", map[string]any{"metadata->>renewal": map[string]any{"lt": "2025-01-08"}}},
		{"seats>=995 and plan=enterprise", map[string]any{"metadata->>seats": map[string]any{"gte": 995}, "metadata->>plan": "enterprise"}},
	}
	setups := []struct{ name, ddl string }{
		{"no metadata index", `DROP INDEX contacts_metadata`},
		{"gin (migrations)", `CREATE INDEX contacts_metadata ON contacts USING gin (metadata jsonb_path_ops)`},
		{"gin+expression", `
			CREATE INDEX contacts_md_seats ON contacts (workspace_id, mode, (metadata->'seats'));
			CREATE INDEX contacts_md_renewal ON contacts (workspace_id, mode, ((metadata->>'renewal') COLLATE "C"))`},
	}
	for _, st := range setups {
		if st.ddl != "" {
			for _, stmt := range strings.Split(st.ddl, ";") {
				if _, err := conn.Exec(ctx, stmt); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := conn.Exec(ctx, `ANALYZE contacts`); err != nil {
				b.Fatal(err)
			}
		}
		for _, q := range queries {
			b.Run(st.name+"/"+q.name, func(b *testing.B) {
				args := map[string]any{"filter": q.filter, "limit": 50}
				for range b.N {
					call("list_contacts", args)
				}
				if *benchExplain {
					b.StopTimer()
					explain(b, conn, ws.ID, last)
				}
			})
		}
	}
}

// explain logs the plan of the last list statement, as a fresh custom plan and as the
// generic plan a prepared statement may switch to after five executions, as the server's
// role in the live mode of workspace ws, so row-level security applies as it did.
func explain(b *testing.B, conn *pgx.Conn, ws string, last *lastList) {
	last.mu.Lock()
	sql, args := last.sql, last.args
	last.mu.Unlock()
	if _, err := conn.Exec(context.Background(), "SET ROLE "+store.AppRole); err != nil {
		b.Fatal(err)
	}
	defer conn.Exec(context.Background(), "RESET ROLE")
	if _, err := conn.Exec(context.Background(), "SELECT set_config('relm.workspace', $1, false), set_config('relm.mode', 'live', false)", ws); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.Exec(context.Background(), "SET plan_cache_mode = "+mode); err != nil {
			b.Fatal(err)
		}
		rows, err := conn.Query(context.Background(), "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "+sql, args...)
		if err != nil {
			b.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s:\n%s", mode, strings.Join(lines, "\n"))
	}
}
