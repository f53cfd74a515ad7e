package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestWorkspacesSetPlan runs `relm workspaces set-plan` against a database: it moves an
// existing workspace between plans and refuses unknown plans and workspaces.
func TestWorkspacesSetPlan(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	relm := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append(args, "--database-url", dbURL), &out, quietLog())
		return out.String(), err
	}
	conn := testkit.Conn(t, dbURL)
	plan := func() string {
		var p string
		if err := conn.QueryRow(t.Context(), `SELECT plan FROM workspaces WHERE name = 'acme'`).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := relm("keys", "create", "--workspace", "acme", "--mode", "live", "--create"); err != nil {
		t.Fatal(err)
	}
	if p := plan(); p != "free" {
		t.Fatalf("a new workspace is on %q, want free", p)
	}
	for _, want := range []string{"team", "free", "team"} {
		out, err := relm("workspaces", "set-plan", "--workspace", "acme", "--plan", want)
		if err != nil || out != "workspace acme is on the "+want+" plan\n" {
			t.Fatalf("set-plan %s: %q %v", want, out, err)
		}
		if p := plan(); p != want {
			t.Fatalf("plan is %q after set-plan %s", p, want)
		}
	}
	for _, args := range [][]string{
		{"workspaces", "set-plan", "--workspace", "acme", "--plan", "enterprise"},
		{"workspaces", "set-plan", "--workspace", "acme"},
		{"workspaces", "set-plan", "--plan", "free"},
		{"workspaces", "rename"},
	} {
		if _, err := relm(args...); err == nil || !strings.Contains(err.Error(), "usage: relm workspaces set-plan") {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
	}
	if _, err := relm("workspaces", "set-plan", "--workspace", "nope", "--plan", "team"); err == nil || !strings.Contains(err.Error(), `no workspace is called "nope"`) {
		t.Errorf("unknown workspace: %v", err)
	}
	if p := plan(); p != "team" {
		t.Fatalf("refused commands changed the plan to %q", p)
	}
}

// TestKeysCreateWorkspace: `relm keys create` refuses a workspace name that does not exist,
// naming those that do and creating nothing, unless --create is given; --create on an
// existing name adds a key to it.
func TestKeysCreateWorkspace(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	relm := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append(args, "--database-url", dbURL), &out, quietLog())
		return out.String(), err
	}
	conn := testkit.Conn(t, dbURL)
	workspaces := func() []string {
		rows, _ := conn.Query(t.Context(), `SELECT name || ':' || (SELECT count(*) FROM api_keys k WHERE k.workspace_id = w.id) FROM workspaces w ORDER BY name`)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	out, err := relm("keys", "create", "--workspace", "acme", "--mode", "test")
	if err == nil || out != "" || !strings.Contains(err.Error(), `no workspace is called "acme" (there are none)`) ||
		!strings.Contains(err.Error(), "relm keys create --workspace acme --mode test --create") {
		t.Fatalf("unknown workspace on an empty database: %q %v", out, err)
	}
	if got := workspaces(); len(got) != 0 {
		t.Fatalf("a refused keys create made %v", got)
	}
	if out, err := relm("keys", "create", "--workspace", "acme", "--mode", "test", "--create"); err != nil || !strings.HasPrefix(out, "sk_test_") {
		t.Fatalf("--create: %q %v", out, err)
	}
	if out, err := relm("keys", "create", "--workspace", "acme", "--mode", "live"); err != nil || !strings.HasPrefix(out, "sk_live_") {
		t.Fatalf("existing workspace: %q %v", out, err)
	}
	if out, err := relm("keys", "create", "--workspace", "acme", "--mode", "live", "--create"); err != nil || !strings.HasPrefix(out, "sk_live_") {
		t.Fatalf("--create on an existing workspace: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"keys", "create", "--workspace", "acme corp", "--mode", "test"},
		{"keys", "list", "--workspace", "acme corp"},
		{"workspaces", "set-plan", "--workspace", "acme corp", "--plan", "team"},
	} {
		_, err := relm(args...)
		if err == nil || !strings.Contains(err.Error(), `no workspace is called "acme corp" (workspaces: acme)`) ||
			!strings.Contains(err.Error(), "relm keys create --workspace 'acme corp' --mode test --create") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if got := workspaces(); !slices.Equal(got, []string{"acme:3"}) {
		t.Fatalf("workspaces and key counts: %v, want [acme:3]", got)
	}
}
