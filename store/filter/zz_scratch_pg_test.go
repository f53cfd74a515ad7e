package filter_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/relmcrm/relm/store/filter"
	"github.com/relmcrm/relm/store/localpg"
)

func TestScratchPostgres(t *testing.T) {
	ctx := context.Background()
	cl, err := localpg.Start(ctx, localpg.Options{Dir: "/tmp/filterscratch/pg"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(ctx)
	conn, err := pgx.Connect(ctx, cl.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ver string
	conn.QueryRow(ctx, "show server_version").Scan(&ver)
	t.Log("version", ver)
	exec := func(sql string, args ...any) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TEMP TABLE ft (id text, name text, email text, value_cents bigint, pos int, close_date date, created_at timestamptz, status text, archived boolean, metadata jsonb NOT NULL DEFAULT '{}')`)
	exec(`INSERT INTO ft VALUES
	 ('a','Alpha','A@X.com',100,1,'2026-01-31','2026-01-31T10:00:00Z','open',false,'{"n":3,"s":"3","b":true,"t":"hello","f":1.5}'),
	 ('b','Beta','b@x.com',500,2,'2026-02-01','2026-02-01T00:00:00Z','won',true,'{"n":"3","b":"true","t":"HELLO","f":"x"}'),
	 ('c','Gamma',NULL,NULL,3,NULL,NULL,'lost',NULL,'{"n":3.0,"f":10}')`)
	spec := filter.Spec{MetadataColumn: "metadata", Fields: []filter.Field{
		{Name: "id", Column: "id", Kind: filter.ID},
		{Name: "name", Column: "name", Kind: filter.Text},
		{Name: "email", Column: "email", Kind: filter.CIText},
		{Name: "value_cents", Column: "value_cents", Kind: filter.Integer},
		{Name: "pos", Column: "pos", Kind: filter.Integer},
		{Name: "close_date", Column: "close_date", Kind: filter.Date},
		{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
		{Name: "status", Column: "status", Kind: filter.Enum, Values: []string{"open", "won", "lost"}},
		{Name: "archived", Column: "archived", Kind: filter.Bool},
	}}
	cases := []struct{ f, want string }{
		{`{"id":"a"}`, "a"},
		{`{"id":{"neq":"a"}}`, "b,c"},
		{`{"id":{"in":"a,c"}}`, "a,c"},
		{`{"name":{"ilike":"%ET%"}}`, "b"},
		{`{"name":{"in":["Alpha","Gamma"]}}`, "a,c"},
		{`{"email":"a@x.COM"}`, "a"},
		{`{"email":{"neq":"a@x.COM"}}`, "b,c"},
		{`{"email":{"in":["A@x.com","B@X.COM"]}}`, "a,b"},
		{`{"email":{"ilike":"%X.COM"}}`, "a,b"},
		{`{"value_cents":{"gte":100,"lt":500}}`, "a"},
		{`{"value_cents":{"neq":"100"}}`, "b,c"},
		{`{"value_cents":{"in":[100,500]}}`, "a,b"},
		{`{"pos":{"gt":9999999999}}`, ""},
		{`{"pos":{"in":[1,9999999999]}}`, "a"},
		{`{"close_date":{"gte":"2026-02-01"}}`, "b"},
		{`{"close_date":{"in":"2026-01-31,2026-02-01"}}`, "a,b"},
		{`{"close_date":"0000-01-01"}`, ""},
		{`{"created_at":{"gt":"2026-01-31"}}`, "a,b"},
		{`{"created_at":{"lt":"2026-02-01T01:00:00+02:00"}}`, "a"},
		{`{"created_at":{"in":["2026-02-01"]}}`, "b"},
		{`{"created_at":{"gt":"0000-01-01T00:00:00+23:59"}}`, "a,b"},
		{`{"status":{"in":"open,won"}}`, "a,b"},
		{`{"status":{"neq":"open"}}`, "b,c"},
		{`{"archived":"false"}`, "a"},
		{`{"archived":{"neq":true}}`, "a,c"},
		{`{"metadata->>n":"3"}`, "a,b,c"},
		{`{"metadata->>n":3}`, "a,c"},
		{`{"metadata->>n":{"neq":3}}`, "b"},
		{`{"metadata->>b":"true"}`, "a,b"},
		{`{"metadata->>b":true}`, "a"},
		{`{"metadata->>t":{"ilike":"hel%"}}`, "a,b"},
		{`{"metadata->>t":{"in":["hello","x"]}}`, "a"},
		{`{"metadata->>n":{"in":"3,4"}}`, "a,b,c"},
		{`{"metadata->>f":{"gt":"1"}}`, "a,c"},
		{`{"metadata->>f":{"lte":1.5}}`, "a"},
		{`{"metadata->>f":{"lt":1e300}}`, "a,c"},
		{`{"metadata->>f":{"gt":1e-320}}`, "a,c"},
		{`{"metadata->>n":"1e-320"}`, ""},
		{`{"metadata->>n":"<&>"}`, ""},
		{`{"metadata->>missing":{"neq":"x"}}`, "a,b,c"},
	}
	for _, c := range cases {
		var f map[string]any
		d := json.NewDecoder(strings.NewReader(c.f))
		d.UseNumber()
		if err := d.Decode(&f); err != nil {
			t.Fatal(err)
		}
		var args []any
		conds, ferr := spec.Compile(f, func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) })
		if ferr != nil {
			t.Errorf("%s: %v", c.f, ferr)
			continue
		}
		sql := "SELECT coalesce(string_agg(id, ',' ORDER BY id), '') FROM ft WHERE " + strings.Join(conds, " AND ")
		var got string
		if err := conn.QueryRow(ctx, sql, args...).Scan(&got); err != nil {
			t.Errorf("%s: %s: %v", c.f, sql, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: got %q want %q (%s %v)", c.f, got, c.want, sql, args)
		}
	}
	// PostgreSQL's own behaviour that the package guards against.
	for _, q := range []string{`SELECT 'ab' ILIKE 'a\'`, `SELECT 'a\' ILIKE 'a\'`, `SELECT 'xyz' ILIKE '%\'`, `SELECT '{"a":1e-50000}'::jsonb`, `SELECT '{"a":1e500000}'::jsonb`, `SELECT '{"a":"\u0000"}'::jsonb`, `SELECT '{"a":1e-5000}'::jsonb`} {
		_, err := conn.Exec(ctx, q)
		t.Logf("%s -> %v", q, err)
	}
	var s string
	err = conn.QueryRow(ctx, "SELECT lower($1)", "ABC").Scan(&s)
	t.Log("lower($1):", s, err)
	_, err = conn.Exec(ctx, "SELECT 1 WHERE 'a' = $1", "a\x00b")
	t.Log("NUL text:", err)
}
