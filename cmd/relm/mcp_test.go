package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

// TestMCPCommandOverStdio runs `relm mcp` as a desktop client does, as a child process
// spoken to over its stdin and stdout by the go-sdk's command transport: it lists the
// tools, writes, and shuts down cleanly when the client closes the connection.
func TestMCPCommandOverStdio(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	if err := run(t.Context(), []string{"migrate", "--database-url", dbURL}, &strings.Builder{}, quietLog()); err != nil {
		t.Fatal(err)
	}
	admin, err := store.OpenAdmin(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ws, _, err := admin.EnsureWorkspace(t.Context(), "desk")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := admin.CreateAPIKey(t.Context(), ws.ID, auth.Test)
	if err != nil {
		t.Fatal(err)
	}
	child := func(apiKey string) *exec.Cmd {
		args, _ := json.Marshal([]string{"mcp", "--database-url", dbURL, "--secret-key", targetSecret})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), serveChildEnv+"="+string(args), "RELM_API_KEY="+apiKey, "RELM_DATABASE_URL=", "RELM_APP_DATABASE_URL=")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		return cmd
	}

	cmd := child(key)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "1"}, nil).Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, logs.String())
	}
	listed, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(listed.Tools) != len(tools.CoreTools) {
		t.Fatalf("tools: %v %v; want the %d core tools, as /mcp serves them", listed, err, len(tools.CoreTools))
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_contact", Arguments: map[string]any{"email": "desk@example.com"}})
	if err != nil || res.IsError {
		t.Fatalf("create_contact: %v %v", res, err)
	}
	if err := cs.Close(); err != nil {
		t.Fatalf("close: %v\n%s", err, logs.String())
	}
	if !cmd.ProcessState.Success() {
		t.Fatalf("relm mcp exited with %v:\n%s", cmd.ProcessState, logs.String())
	}
	if n := testkit.Exec(t, dbURL, `UPDATE contacts SET email = email WHERE workspace_id = $1 AND email = 'desk@example.com'`, ws.ID); n != 1 {
		t.Fatalf("%d contacts written", n)
	}

	// A bad key: the command refuses to start and says why.
	bad := child("sk_test_" + strings.Repeat("x", 32))
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "RELM_API_KEY is unknown, revoked or expired") {
		t.Fatalf("a bad key: %v\n%s", err, out)
	}
	if os.Getenv("RELM_API_KEY") == "" {
		if err := run(context.Background(), []string{"mcp", "--database-url", dbURL}, &strings.Builder{}, quietLog()); err == nil ||
			!strings.Contains(err.Error(), "RELM_API_KEY") {
			t.Fatalf("no key: %v", err)
		}
	}
}
