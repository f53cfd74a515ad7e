package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/evals/sandbox"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestWorkspaceLifecycle: each transcript gets a workspace of its own with a key of its
// mode, and closing deletes the workspace with every row it owned, and nothing else.
func TestWorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin, url := pgtest.Open(t)
	other, _, err := admin.EnsureWorkspace(ctx, "bystander")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.CreateAPIKey(ctx, other.ID, auth.Live); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(s, admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	tr := &evals.Transcript{Name: "Lifecycle Check!", Mode: "live"}
	cs, closeSession, err := sb.Open(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_deal", Arguments: map[string]any{"title": "Written in the sandbox"}})
	if err != nil || res.IsError {
		t.Fatalf("create_deal: %v %+v", err, res)
	}
	deal := res.StructuredContent.(map[string]any)
	if deal["mode"] != "live" {
		t.Fatalf("the key should have the transcript's mode: %v", deal["mode"])
	}
	wsID := workspaceOf(t, url, deal["id"].(string))
	var name string
	conn := testkit.Conn(t, url)
	if err := conn.QueryRow(ctx, `SELECT name FROM workspaces WHERE id = $1`, wsID).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "eval-lifecycle-check-") {
		t.Fatalf("workspace name %q", name)
	}
	closeSession()

	for _, table := range []string{"workspaces", "api_keys", "deals", "events", "request_logs"} {
		col := "workspace_id"
		if table == "workspaces" {
			col = "id"
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+col+` = $1`, wsID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
	if _, err := admin.WorkspaceByName(ctx, "bystander"); err != nil {
		t.Fatalf("another workspace was touched: %v", err)
	}
	if err := admin.DeleteWorkspace(ctx, wsID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting a missing workspace: %v", err)
	}
}

// TestKeep leaves the workspace in place and says where it is.
func TestKeep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin, _ := pgtest.Open(t)
	sb, err := sandbox.New(s, admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	var kept, key string
	sb.Keep = true
	sb.Kept = func(_, workspace, k string) { kept, key = workspace, k }
	_, closeSession, err := sb.Open(ctx, &evals.Transcript{Name: "keep"})
	if err != nil {
		t.Fatal(err)
	}
	closeSession()
	if _, err := admin.WorkspaceByName(ctx, kept); err != nil || !strings.HasPrefix(key, "sk_test_") {
		t.Fatalf("kept workspace %q (key %q): %v", kept, key, err)
	}
}

func workspaceOf(t *testing.T, url, dealID string) string {
	t.Helper()
	var ws string
	if err := testkit.Conn(t, url).QueryRow(context.Background(), `SELECT workspace_id FROM deals WHERE id = $1`, dealID).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	return ws
}
