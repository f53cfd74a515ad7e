package evals_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/evals/sandbox"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestSuiteAgainstARunningServer replays the committed suite the way `relm eval --url
// --key` does, against a server whose workspace already holds records (among them the
// emails the transcripts use): every transcript passes in a sandbox of its own, or is
// skipped for managing sandboxes, and the workspace's data is exactly as before.
func TestSuiteAgainstARunningServer(t *testing.T) {
	t.Parallel()
	s, admin, dbURL := pgtest.Open(t)
	sb, err := sandbox.New(s, admin, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	hs := httptest.NewServer(sb.Handler())
	t.Cleanup(hs.Close)
	ctx := t.Context()
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.SetWorkspacePlan(ctx, "acme", "team"); err != nil {
		t.Fatal(err)
	}
	_, key, err := admin.CreateAPIKey(ctx, ws.ID, auth.Test)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, hs.URL, key)
	before := workspaceData(t, dbURL, ws.ID)

	results := (&evals.Runner{Target: &evals.Remote{URL: hs.URL, Key: key}, Parallel: 4}).Run(ctx, loadSuite(t), nil)
	passed := 0
	for _, r := range results {
		switch {
		case r.Skipped && strings.HasPrefix(r.Name, "sandboxes."):
		case r.Skipped:
			t.Errorf("%s skipped: %s", r.Name, r.SkipReason)
		case !r.Passed:
			t.Errorf("%s failed:\n%s", r.Name, r.Failure.Describe())
		default:
			passed++
		}
	}
	if passed < len(results)-3 {
		t.Fatalf("%d of %d transcripts passed", passed, len(results))
	}
	if after := workspaceData(t, dbURL, ws.ID); after != before {
		t.Fatalf("the workspace changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := testkit.Exec(t, dbURL, `UPDATE workspaces SET name = name WHERE parent_id = $1`, ws.ID); n != 0 {
		t.Fatalf("%d sandboxes left behind", n)
	}
}

// TestRemoteSkipsWhatASandboxCannotHost: on a Free workspace, transcripts that need Team
// are skipped with the reason, and so is one that needs a live key; the rest run.
func TestRemoteSkipsWhatASandboxCannotHost(t *testing.T) {
	t.Parallel()
	sb, _, admin := newSandbox(t)
	hs := httptest.NewServer(sb.Handler())
	t.Cleanup(hs.Close)
	ws, _, err := admin.EnsureWorkspace(t.Context(), "free-co")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := admin.CreateAPIKey(t.Context(), ws.ID, auth.Live)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := evals.Load("suite/associations")
	if err != nil {
		t.Fatal(err)
	}
	live, err := evals.Parse("live.json", []byte(`{"name":"live","description":"x","mode":"live","steps":[{"tool":"list_contacts"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ts = append(ts, live)
	skips := 0
	for i, r := range (&evals.Runner{Target: &evals.Remote{URL: hs.URL + "/mcp", Key: key}}).Run(t.Context(), ts, nil) {
		want := map[string]string{"team": "team plan", "live": "live key"}[ts[i].Plan+ts[i].Mode]
		switch {
		case want == "" && !r.Passed:
			t.Errorf("%s: %+v", r.Name, r)
		case want != "" && (!r.Skipped || !strings.Contains(r.SkipReason, want)):
			t.Errorf("%s: skipped %v (%q), want a skip for %q", r.Name, r.Skipped, r.SkipReason, want)
		case want != "":
			skips++
		}
	}
	if skips < 2 {
		t.Fatalf("%d skips", skips)
	}
}

// seed gives the workspace of key records like those the transcripts make.
func seed(t *testing.T, url, key string) {
	t.Helper()
	for _, c := range []struct{ path, body string }{
		{"/v1/contacts", `{"email":"ada@example.com","first_name":"Ada"}`},
		{"/v1/contacts", `{"email":"grace@example.com","first_name":"Grace"}`},
		{"/v1/companies", `{"name":"Acme","domain":"acme.com"}`},
		{"/v1/deals", `{"title":"Acme renewal","value_cents":120000}`},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", url+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("seed %s: %d", c.path, res.StatusCode)
		}
	}
}

// workspaceData is a digest of every row of the workspace, table by table, but for the
// request logs and rate-limit counts that using its key writes.
func workspaceData(t *testing.T, dbURL, workspace string) string {
	t.Helper()
	conn := testkit.Conn(t, dbURL)
	rows, err := conn.Query(context.Background(), `SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'workspace_id'
		  AND table_name NOT IN ('request_logs', 'rate_windows', 'workspace_rate_windows', 'usage_counters')
		ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if rows.Err() != nil || len(tables) < 10 {
		t.Fatalf("tables %v: %v", tables, rows.Err())
	}
	var b strings.Builder
	for _, table := range append(tables, "workspaces") {
		column := "workspace_id"
		if table == "workspaces" {
			column = "id"
		}
		var digest string
		err := conn.QueryRow(context.Background(), `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')
			FROM `+table+` t WHERE `+column+` = $1`, workspace).Scan(&digest)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(table + "=" + digest + " ")
	}
	return b.String()
}

// TestRemoteWaitsOutRateLimits: runs that share a workspace's tight rate limit slow down
// and pass instead of failing, whichever request the server refuses (initialize, the tool
// list, a tool call, the sandbox's creation).
func TestRemoteWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	if evals.CodeRateLimitedRPC != server.CodeRateLimitedRPC {
		t.Fatal("evals.CodeRateLimitedRPC differs from the server's")
	}
	s, admin, _ := pgtest.Open(t)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.DiscardHandler), SecretKey: server.NewSecretKey(),
		Limits: server.Limits{RateLimit: 5, WorkspaceRateLimit: 8, RateWindow: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ws, _, err := admin.EnsureWorkspace(t.Context(), "tight")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := admin.CreateAPIKey(t.Context(), ws.ID, auth.Test)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := evals.Load("suite/contacts")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range (&evals.Runner{Target: &evals.Remote{URL: hs.URL, Key: key}, Parallel: 3}).Run(t.Context(), ts[:3], nil) {
		if !r.Passed {
			t.Errorf("%s:\n%s", r.Name, r.Failure.Describe())
		}
	}
}
