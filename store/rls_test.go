package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// tenants makes workspaces a and b and returns callers for a/live, a/test and b/live, each
// with one contact (email <name>@example.com) written through the store.
func tenants(t *testing.T) (*store.Store, *pgx.Conn, []auth.Caller) {
	t.Helper()
	ctx := context.Background()
	s, admin, url := pgtest.Open(t)
	var callers []auth.Caller
	for _, tc := range []struct {
		ws   string
		mode auth.Mode
	}{{"a", auth.Live}, {"a", auth.Test}, {"b", auth.Live}} {
		ws, _, err := admin.EnsureWorkspace(ctx, tc.ws)
		if err != nil {
			t.Fatal(err)
		}
		c := auth.Caller{WorkspaceID: ws.ID, Mode: tc.mode, KeyID: "key_test"}
		callers = append(callers, c)
		email := tc.ws + "-" + string(tc.mode) + "@example.com"
		err = s.InTx(ctx, c, func(tx *store.Tx) error {
			if _, err := tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
				store.NewID("con_"), c.WorkspaceID, c.Mode, email); err != nil {
				return err
			}
			return tx.RecordEvents(ctx, store.NewEvent{Type: "contact.created", Data: []byte(`{}`)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close(context.Background()) })
	return s, owner, callers
}

// tenantTables lists every table with a workspace_id column, from the catalog.
func tenantTables(t *testing.T, owner *pgx.Conn) []string {
	t.Helper()
	rows, _ := owner.Query(context.Background(), `
		SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attname = 'workspace_id'
		ORDER BY 1`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) < 10 {
		t.Fatalf("tenant tables %v: %v", names, err)
	}
	return names
}

// TestRowLevelSecurityWithoutTenantPredicate reads and writes every tenant table with no
// workspace or mode predicate at all, as the server's sessions do: only the transaction's
// tenant is visible or changeable.
func TestRowLevelSecurityWithoutTenantPredicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	a := callers[0]

	// Every tenant table holds rows of other tenants (pipelines are seeded per workspace
	// and mode; contacts, events and api keys were written above) ...
	var foreign int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id <> $1 OR mode <> 'live'`, a.WorkspaceID).Scan(&foreign); err != nil || foreign != 2 {
		t.Fatalf("other tenants' contacts: %d (%v)", foreign, err)
	}
	// ... and none of them is visible to a/live through a bare SELECT.
	err := s.InTx(ctx, a, func(tx *store.Tx) error {
		for _, table := range append(tenantTables(t, owner), "workspaces") {
			var readable bool
			if err := owner.QueryRow(ctx, `SELECT has_table_privilege('relm_app', $1, 'SELECT')`, table).Scan(&readable); err != nil {
				return err
			}
			if !readable { // reached only through definer functions (memberships, invitations): nothing to see
				continue
			}
			col := "workspace_id"
			if table == "workspaces" {
				col = "id"
			}
			var total, others int
			q := fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE %s <> $1%s) FROM %s`, col,
				map[bool]string{true: "", false: " OR mode <> 'live'"}[table == "workspaces"], table)
			if err := tx.Raw().QueryRow(ctx, q, a.WorkspaceID).Scan(&total, &others); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			if others != 0 {
				t.Errorf("%s: %d rows of other tenants visible", table, others)
			}
		}
		// Search takes its candidates from definer functions, which apply the tenant themselves.
		hits, _, err := store.Search(ctx, tx, store.SearchParams{Query: "example"})
		if err != nil || len(hits) != 1 {
			t.Errorf("search by a/live for every contact's email domain: %v (%v), want its one contact", hits, err)
		}
		rows, _ := tx.Raw().Query(ctx, `SELECT email FROM contacts`)
		emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(emails) != 1 || emails[0] != "a-live@example.com" {
			t.Errorf("contacts seen by a/live: %v (%v)", emails, err)
		}
		// Writes without a predicate touch only the tenant's rows.
		if tag, err := tx.Raw().Exec(ctx, `UPDATE contacts SET first_name = 'Changed'`); err != nil || tag.RowsAffected() != 1 {
			t.Errorf("unqualified UPDATE changed %d rows (%v), want 1", tag.RowsAffected(), err)
		}
		if tag, err := tx.Raw().Exec(ctx, `DELETE FROM contacts`); err != nil || tag.RowsAffected() != 1 {
			t.Errorf("unqualified DELETE removed %d rows (%v), want 1", tag.RowsAffected(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var changed, left int
	if err := owner.QueryRow(ctx, `SELECT count(*) FILTER (WHERE first_name = 'Changed'), count(*) FROM contacts`).Scan(&changed, &left); err != nil || changed != 0 || left != 2 {
		t.Fatalf("after a/live's unqualified writes: %d others changed, %d contacts left (want 0, 2): %v", changed, left, err)
	}
}

// TestRowLevelSecurityRefusesForeignRows: a row written for another tenant, or moved to one,
// is refused by the policy's WITH CHECK and nothing is written.
func TestRowLevelSecurityRefusesForeignRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	a, aTest, b := callers[0], callers[1], callers[2]
	for name, stmt := range map[string]struct {
		sql  string
		args []any
	}{
		"insert into another workspace":   {`INSERT INTO contacts (id, workspace_id, mode, email) VALUES ('con_x', $1, 'live', 'x@example.com')`, []any{b.WorkspaceID}},
		"insert into the other mode":      {`INSERT INTO contacts (id, workspace_id, mode, email) VALUES ('con_y', $1, 'test', 'y@example.com')`, []any{aTest.WorkspaceID}},
		"move a row to another workspace": {`UPDATE contacts SET workspace_id = $1`, []any{b.WorkspaceID}},
		"move a row to the other mode":    {`UPDATE contacts SET mode = 'test'`, nil},
		"insert an event for another":     {`INSERT INTO events (id, workspace_id, mode, type, data) VALUES ('evt_x', $1, 'live', 'contact.created', '{}')`, []any{b.WorkspaceID}},
	} {
		err := s.InTx(ctx, a, func(tx *store.Tx) error {
			_, err := tx.Raw().Exec(ctx, stmt.sql, stmt.args...)
			return err
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "23503") {
			t.Errorf("%s: %v, want a row-level security violation", name, err)
		}
	}
	var n int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE id IN ('con_x', 'con_y') OR (workspace_id = $1 AND mode = 'test' AND email LIKE 'a-live%')`, a.WorkspaceID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d refused rows written (%v)", n, err)
	}
}

// TestNoTenantSeesNothing: a server session outside InTx (no tenant named) reads no tenant
// row, runs as relm_app, and cannot bypass the policies.
func TestNoTenantSeesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	// The tenant named by a transaction or batch ends with it: the next use of the
	// connection (the pool hands back the one just released) is outside any tenant again.
	for range 5 {
		if err := s.RecordRequests(ctx, []store.TenantLogs{{Tenant: callers[0], Logs: []store.RequestLog{{RequestID: "req_1", Surface: "rest", Status: 200, KeyID: "key_test", CreatedAt: time.Now()}}}}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.RawPool().QueryRow(ctx, `SELECT count(*) FROM request_logs`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after a tenant batch, a bare session sees %d request logs (%v)", n, err)
		}
		if err := s.InTx(ctx, callers[0], func(*store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.RawPool().QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after a tenant transaction, a bare session sees %d contacts (%v)", n, err)
		}
	}
	// The search functions bypass the policies but apply the same tenant: none named, none found.
	var found int
	if err := s.RawPool().QueryRow(ctx, `SELECT count(*) FROM relm_search_contacts(to_tsquery('simple', 'example:*'), '%example%', 1000)`).Scan(&found); err != nil || found != 0 {
		t.Fatalf("search without a tenant found %d contacts (%v)", found, err)
	}
	var (
		user           string
		active, bypass bool
		contacts, ws   int
	)
	err := s.RawPool().QueryRow(ctx, `SELECT current_user, row_security_active('contacts'),
		(SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user),
		(SELECT count(*) FROM contacts), (SELECT count(*) FROM workspaces)`).Scan(&user, &active, &bypass, &contacts, &ws)
	if err != nil {
		t.Fatal(err)
	}
	if user != store.AppRole || !active || bypass || contacts != 0 || ws != 0 {
		t.Fatalf("session as %s (row security active %v, bypasses %v) sees %d contacts and %d workspaces", user, active, bypass, contacts, ws)
	}
	// relm_app owns nothing (owners bypass their tables' policies) and has privileges only
	// on tables whose policies bind it.
	rows, _ := owner.Query(ctx, `
		SELECT c.relname || CASE WHEN c.relowner = 'relm_app'::regrole THEN ' (owned by relm_app)'
		                         WHEN NOT c.relrowsecurity THEN ' (row-level security off)'
		                         ELSE ' (no policy)' END
		FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
		  AND (c.relowner = 'relm_app'::regrole
		       OR (has_table_privilege('relm_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
		           AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))))`)
	bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(bad) > 0 {
		t.Fatalf("tables relm_app can reach without a policy: %v (%v)", bad, err)
	}
	// Every tenant table has row-level security, whether or not the server uses it yet.
	for _, table := range tenantTables(t, owner) {
		var on bool
		if err := owner.QueryRow(ctx, `SELECT relrowsecurity FROM pg_class WHERE oid = $1::regclass`, table).Scan(&on); err != nil || !on {
			t.Errorf("%s: row-level security is off (%v)", table, err)
		}
	}
}

// TestInTxRefusesMalformedTenant: anything but a plain id and a mode as the tenant is
// refused before reaching the database.
func TestInTxRefusesMalformedTenant(t *testing.T) {
	t.Parallel()
	s, _, callers := tenants(t)
	for _, c := range []auth.Caller{
		{WorkspaceID: callers[0].WorkspaceID + "', true); DROP TABLE contacts; --", Mode: auth.Live},
		{WorkspaceID: callers[0].WorkspaceID, Mode: "live'"},
		{WorkspaceID: "", Mode: auth.Live},
	} {
		err := s.InTx(context.Background(), c, func(*store.Tx) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "valid tenant") {
			t.Errorf("InTx(%+v) = %v", c, err)
		}
	}
}

// TestIndexedPredicatesBeneathPolicies: the list conditions Relm serves from indexes keep
// using them beneath the policies (the built-ins inside are marked LEAKPROOF by Migrate), so
// RLS does not turn an email lookup or a metadata filter into a scan of the tenant.
func TestIndexedPredicatesBeneathPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	// Enough rows in the tenant that a selective index beats reading the tenant's rows, and
	// the expression indexes docs/api.md recommends for custom-field ranges.
	for _, stmt := range []string{
		`INSERT INTO contacts (id, workspace_id, mode, email, first_name, metadata)
		 SELECT 'con_' || i, '` + callers[0].WorkspaceID + `', 'live', 'user' || i || '@example.com', 'Name' || i,
		        jsonb_build_object('plan', 'pro', 'seats', i % 1000, 'renewal', to_char(date '2024-01-01' + i % 1461, 'YYYY-MM-DD'))
		 FROM generate_series(1, 20000) i`,
		`CREATE INDEX contacts_md_seats ON contacts (workspace_id, mode, (metadata->'seats'))`,
		`CREATE INDEX contacts_md_renewal ON contacts (workspace_id, mode, ((metadata->>'renewal') COLLATE "C"))`,
		`ANALYZE contacts`,
	} {
		if _, err := owner.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	var super bool
	if err := owner.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		t.Fatal(err)
	} else if !super {
		t.Skip("the test database was not migrated by a superuser, so nothing could be marked LEAKPROOF")
	}
	unmarked, _, err := s.UnmarkedLeakproof(ctx)
	if err != nil || len(unmarked) > 0 {
		t.Fatalf("not leakproof: %v (%v)", unmarked, err)
	}
	// The conditions as store/filter writes them (its tests pin the exact SQL).
	// indexCond is what the index condition must mention, beyond the tenant.
	for _, c := range []struct {
		index, indexCond, cond string
		args                   []any
	}{
		{"contacts_email", "lower(email)", `lower(email) = lower($3)`, []any{"user7@example.com"}},
		{"contacts_metadata", "metadata @>", `metadata @> $3::jsonb`, []any{`{"plan": "legacy"}`}},
		{"contacts_md_seats", "'seats'", `(metadata->$3::text >= $4::jsonb AND CASE WHEN jsonb_typeof(metadata->$3::text) = 'number' THEN TRUE ELSE FALSE END)`, []any{"seats", "998"}},
		{"contacts_md_renewal", "'renewal'", `((metadata->>$3::text) COLLATE "C" < $4::text AND CASE WHEN (metadata->>$3::text) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN TRUE ELSE FALSE END)`,
			[]any{"renewal", "2024-01-03"}},
	} {
		q := `SELECT id FROM contacts WHERE workspace_id = $1 AND mode = $2 AND ` + c.cond
		args := append([]any{callers[0].WorkspaceID, callers[0].Mode}, c.args...)
		// Lists filtered on metadata force custom plans (the key is bound); the others may
		// run either way.
		modes := []string{"force_custom_plan", "force_generic_plan"}
		if strings.Contains(c.cond, "metadata->") {
			modes = modes[:1]
		}
		for _, planMode := range modes {
			err := s.InTx(ctx, callers[0], func(tx *store.Tx) error {
				if _, err := tx.Raw().Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = `+planMode); err != nil {
					return err
				}
				rows, _ := tx.Raw().Query(ctx, `EXPLAIN (COSTS OFF) `+q, args...)
				lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				served := false
				for i, l := range lines {
					served = served || strings.Contains(l, "Index Cond:") && strings.Contains(l, c.indexCond) &&
						i > 0 && strings.Contains(lines[i-1], c.index)
				}
				if !served {
					t.Errorf("%s (%s) is not served by %s:\n%s", q, planMode, c.index, strings.Join(lines, "\n"))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNonSuperuserOwner runs Relm on a database owned by an ordinary role with CREATEROLE,
// as on a managed PostgreSQL: migrations work, the server's sessions still become relm_app
// under the policies, and the unmarked built-ins are reported instead of marked.
func TestNonSuperuserOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	super, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	name := "relm_owner_" + strings.ToLower(store.NewID(""))[:12]
	for _, stmt := range []string{
		"CREATE ROLE " + name + " LOGIN CREATEROLE PASSWORD 'owner-pw'",
		"CREATE DATABASE " + name + " OWNER " + name,
	} {
		if _, err := super.Exec(ctx, stmt); err != nil {
			t.Skipf("cannot set up a non-superuser owner here: %v", err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		super.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		super.Exec(ctx, "DROP ROLE IF EXISTS "+name)
	})
	cfg := super.Config()
	url := fmt.Sprintf("postgres://%s:owner-pw@%s:%d/%s?sslmode=disable", name, cfg.Host, cfg.Port, name)

	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	admin, err := store.OpenAdmin(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws, _, err := admin.EnsureWorkspace(ctx, "managed")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := admin.EnsureWorkspace(ctx, "neighbour")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ws.ID, other.ID} {
		err := s.InTx(ctx, auth.Caller{WorkspaceID: id, Mode: auth.Live}, func(tx *store.Tx) error {
			_, err := tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, 'live', 'x@example.com')`, store.NewID("con_"), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var user string
	var n int
	err = s.InTx(ctx, auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live}, func(tx *store.Tx) error {
		return tx.Raw().QueryRow(ctx, `SELECT current_user, (SELECT count(*) FROM contacts)`).Scan(&user, &n)
	})
	if err != nil || user != store.AppRole || n != 1 {
		t.Fatalf("as %s the tenant sees %d contacts (%v), want relm_app and 1", user, n, err)
	}
	unmarked, fix, err := s.UnmarkedLeakproof(ctx)
	if err != nil || len(unmarked) != 8 || !strings.Contains(fix, "ALTER FUNCTION lower(text) LEAKPROOF;") {
		t.Fatalf("unmarked %v, fix %q (%v)", unmarked, fix, err)
	}
}

// TestWithTxCommitsTogether: InTx under WithTx joins the enclosing transaction as a
// savepoint, so an idempotent request's writes and its stored response commit together, and
// a response that cannot be stored (its claim was taken over) takes the writes back with it.
func TestWithTxCommitsTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	a := callers[0]
	insert := func(ctx context.Context, email string) error {
		return s.InTx(ctx, a, func(tx *store.Tx) error {
			_, err := tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
				store.NewID("con_"), a.WorkspaceID, a.Mode, email)
			return err
		})
	}
	count := func(email string) int {
		var n int
		if err := owner.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE email = $1`, email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A failing inner transaction is undone alone; the rest commits with the response.
	claim, err := s.ClaimIdempotencyKey(ctx, a, "together", []byte("hash"))
	if err != nil || claim.State != store.IdempotencyClaimed {
		t.Fatalf("claim: %+v %v", claim, err)
	}
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		txCtx := store.WithTx(ctx, tx)
		if err := insert(txCtx, "kept@example.com"); err != nil {
			return err
		}
		if err := insert(txCtx, "a-live@example.com"); err == nil { // the same email again: refused
			t.Error("a duplicate email was inserted")
		}
		return s.FinishIdempotencyKey(txCtx, a, claim, 201, []byte(`{}`))
	})
	if err != nil || count("kept@example.com") != 1 || count("a-live@example.com") != 1 {
		t.Fatalf("commit together: %v, %d kept", err, count("kept@example.com"))
	}
	if again, _ := s.ClaimIdempotencyKey(ctx, a, "together", []byte("hash")); again.State != store.IdempotencyReplay || again.Status != 201 {
		t.Fatalf("the stored response: %+v", again)
	}

	// The claim is taken over while the request runs: storing its response fails, and its
	// write goes with it.
	claim, err = s.ClaimIdempotencyKey(ctx, a, "taken", []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		txCtx := store.WithTx(ctx, tx)
		if err := insert(txCtx, "lost@example.com"); err != nil {
			return err
		}
		if _, err := owner.Exec(ctx, `UPDATE idempotency_keys SET created_at = clock_timestamp() WHERE key = 'taken'`); err != nil {
			return err
		}
		return s.FinishIdempotencyKey(txCtx, a, claim, 201, []byte(`{}`))
	})
	if !errors.Is(err, store.ErrIdempotencyClaimLost) || count("lost@example.com") != 0 {
		t.Fatalf("taken-over claim: %v, %d written", err, count("lost@example.com"))
	}
}
