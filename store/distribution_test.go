package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// tenantKeysSQL lists the keys of every tenant table (a table in public with a workspace_id
// column): primary keys, unique constraints, unique indexes (partial and expression ones
// too) and exclusion constraints, with their key columns (INCLUDE columns are not keys);
// and foreign keys, with their referencing and referenced columns in constraint order.
const tenantKeysSQL = `
WITH tenant AS (
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND a.attname = 'workspace_id' AND NOT a.attisdropped
)
SELECT t.relname, CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
                                   WHEN 'x' THEN 'exclusion constraint' ELSE 'unique index' END,
       i.relname,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, n, true) FROM generate_series(1, x.indnkeyatts) n),
       '', '{}'::text[]
FROM tenant t
JOIN pg_index x ON x.indrelid = t.oid AND (x.indisunique OR x.indisexclusion)
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x')
UNION ALL
SELECT t.relname, 'foreign key', con.conname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n),
       con.confrelid::regclass::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n)
FROM tenant t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
ORDER BY 1, 3`

// tenantKey is one key of a tenant table, as tenantKeysSQL reads it.
type tenantKey struct {
	Table, Kind, Name string
	Columns           []string
	RefTable          string   // foreign keys only
	RefColumns        []string // foreign keys only
}

// TestKeysIncludeWorkspace: every key of every tenant table includes workspace_id, so the
// tables can be distributed by workspace (docs/scaling.md): a unique key is then checked
// within one workspace's shard, and a foreign key joins rows of the same workspace. The
// workspaces table is the root (its id is the workspace id), so a foreign key to it passes
// when it maps workspace_id to id.
func TestKeysIncludeWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	owner, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	rows, _ := owner.Query(ctx, tenantKeysSQL)
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tenantKey])
	if err != nil {
		t.Fatal(err)
	}
	tenant := map[string]bool{}
	names := map[string]bool{}
	for _, k := range keys {
		tenant[k.Table] = true
		names[k.Name] = true
	}
	// Not vacuous: the walk sees each kind of key.
	for _, want := range []string{"contacts_pkey", "contacts_tenant_key", "contacts_email", "contacts_company_id_fkey", "pipelines_default"} {
		if !names[want] {
			t.Fatalf("the catalog walk missed %s; it found %d keys", want, len(keys))
		}
	}
	var bad []string
	for _, k := range keys {
		if problem := distributionProblem(k, tenant); problem != "" {
			bad = append(bad, fmt.Sprintf("%s: %s %s (%s) %s", k.Table, k.Kind, k.Name, strings.Join(k.Columns, ", "), problem))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d keys of tenant tables cannot be distributed by workspace_id:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// referenceTables are the tables that are not tenant data and would be replicated to every
// node (Citus reference tables), which a distributed table's foreign keys may reference:
// the users who sign in to the dashboard (migration 00018) and OAuth clients (00019).
var referenceTables = map[string]bool{"users": true, "oauth_clients": true}

// distributionProblem says why key k does not include the workspace, or "" if it does.
func distributionProblem(k tenantKey, tenant map[string]bool) string {
	if k.Kind == "foreign key" && referenceTables[k.RefTable] {
		return ""
	}
	i := slices.Index(k.Columns, "workspace_id")
	if i < 0 {
		return "lacks workspace_id"
	}
	if k.Kind != "foreign key" {
		return ""
	}
	ref := fmt.Sprintf("references %s (%s)", k.RefTable, strings.Join(k.RefColumns, ", "))
	switch {
	case k.RefTable == "workspaces" && k.RefColumns[i] == "id":
		return ""
	case !tenant[k.RefTable] && k.RefTable != "workspaces":
		return ref + ", a table not keyed by workspace"
	case k.RefColumns[i] != "workspace_id":
		return ref + ", which does not map workspace_id to workspace_id"
	}
	return ""
}

// TestPointReadsByIDUseAnIndex: with workspace_id leading every primary key, a read by id
// alone is still served by an index: beneath the policies, which supply the tenant, and in
// the paths that know only an id or a hash (relm_authenticate, the CLI revoking a key).
func TestPointReadsByIDUseAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	ws := callers[0].WorkspaceID

	// Every tenant table with ids has a unique index on the policy's columns and id.
	rows, _ := owner.Query(ctx, `
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id')
		  AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisunique
		      AND ARRAY(SELECT pg_get_indexdef(x.indexrelid, n, true) FROM generate_series(1, x.indnkeyatts) n)
		          IN (ARRAY['workspace_id', 'id'], ARRAY['workspace_id', 'mode', 'id']))
		ORDER BY 1`)
	unserved, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(unserved) > 0 {
		t.Errorf("tenant tables without a unique index on (workspace_id, id): %v (%v)", unserved, err)
	}

	// The planner uses them, given tables the size of a tenant's (an empty table's costs tie).
	for _, stmt := range []string{
		`INSERT INTO contacts (id, workspace_id, mode, email)
		 SELECT 'con_' || i, '` + ws + `', 'live', 'user' || i || '@example.com' FROM generate_series(1, 20000) i`,
		`INSERT INTO events (id, workspace_id, mode, type, data)
		 SELECT 'evt_' || i, '` + ws + `', 'live', 'contact.created', '{}' FROM generate_series(1, 20000) i`,
		`INSERT INTO request_logs (id, workspace_id, mode, request_id, surface, status, latency_ms, key_id, created_at)
		 SELECT 'rlog_' || i, '` + ws + `', 'live', 'req_' || i, 'rest', 200, 1, 'key_test', now() FROM generate_series(1, 20000) i`,
		`ANALYZE`,
	} {
		if _, err := owner.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(q pgx.Tx, stmt string, args ...any) string {
		t.Helper()
		if _, err := q.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		rows, _ := q.Query(ctx, `EXPLAIN (COSTS OFF) `+stmt, args...)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return strings.Join(lines, "\n")
	}
	// served reports whether plan scans one of indexes with an index condition on cond.
	served := func(plan, cond string, indexes ...string) bool {
		lines := strings.Split(plan, "\n")
		for i := 1; i < len(lines); i++ {
			if strings.Contains(lines[i], "Index Cond:") && strings.Contains(lines[i], cond) &&
				slices.ContainsFunc(indexes, func(ix string) bool { return strings.Contains(lines[i-1], " "+ix+" ") }) {
				return true
			}
		}
		return false
	}
	err = s.InTx(ctx, callers[0], func(tx *store.Tx) error {
		for _, table := range []string{"contacts", "events", "request_logs"} {
			if plan := explain(tx.Raw(), `SELECT * FROM `+table+` WHERE id = $1`, "x_1"); !served(plan, "(id = ", table+"_pkey", table+"_tenant_key") {
				t.Errorf("%s: a read by id beneath the policy is not served by an index:\n%s", table, plan)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		for _, c := range []struct{ stmt, cond, index string }{
			{`SELECT id FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, "(secret_hash = ", "api_keys_secret_hash"},
			{`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, "(id = ", "api_keys_id"},
		} {
			if plan := explain(tx, c.stmt, "x"); !served(plan, c.cond, c.index) {
				t.Errorf("%s is not served by %s:\n%s", c.stmt, c.index, plan)
			}
		}
		return nil // only EXPLAINed: nothing was written
	})
	if err != nil {
		t.Fatal(err)
	}
}
