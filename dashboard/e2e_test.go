package dashboard_test

import (
	"bytes"
	"context"
	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/accounts/oidctest"
	"github.com/relmcrm/relm/internal/testkit"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestBrowserEndToEnd drives the dashboard in headless Chromium through
// testdata/e2e/e2e.mjs (playwright-core over Debian's chromium, axe-core scanning every
// page): email-code sign-in with the code read from the mail directory, a workspace, an API
// key used over REST, signing out. Screenshots of every page go to
// $RELM_ARTIFACTS_DIR/dashboard-screenshots (.ci/run sets it), else to a directory under
// the system's temporary directory that the test names and keeps.
//
// It needs Node.js, `npm ci` in testdata/e2e and chromium (.ci/run provides all three);
// without one it is skipped, saying why, except under CI=true, where it fails.
func TestBrowserEndToEnd(t *testing.T) {
	t.Parallel()
	missing := func(format string, args ...any) {
		t.Helper()
		testkit.SkipUnlessCI(t, "the browser test cannot run: "+format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir := filepath.Join("testdata", "e2e")
	for _, m := range []string{"playwright-core", "axe-core"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m)); err != nil {
			missing("%s is not installed: run `npm ci` in dashboard/testdata/e2e", m)
		}
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
		if p, err := exec.LookPath("chromium"); err == nil {
			chromium = p
		}
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no chromium at %s: install Debian's chromium package (apt-get install chromium) or set CHROMIUM", chromium)
	}

	artifacts := artifactsDir(t)
	google := oidctest.NewServer(t)
	google.AddUser("google-subject-1", "grace@example.com", true)
	e := setupWith(t, options{work: true, accounts: func(svc *accounts.Service) {
		svc.Google = &accounts.Google{Issuer: google.URL, ClientID: google.ClientID, ClientSecret: google.ClientSecret,
			RedirectURL: svc.PublicURL + "/signin/google/callback"}
	}})

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RELM_URL="+e.URL, "RELM_MAIL_DIR="+e.MailDir,
		"RELM_ARTIFACTS="+artifacts, "CHROMIUM="+chromium, "RELM_GOOGLE_EMAIL=grace@example.com",
		"RELM_WEBHOOK_URL="+newReceiver(t, nil, nil).URL+"/relm")
	cmd.WaitDelay = 10 * time.Second // after a kill on timeout, Chromium's pipes may linger
	out := &testLogWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("the browser run timed out after %s; screenshots in %s", time.Since(start).Round(time.Second), artifacts)
	}
	if err != nil {
		t.Fatalf("the browser run failed (%v) after %s; screenshots in %s", err, time.Since(start).Round(time.Second), artifacts)
	}
	t.Logf("browser run passed in %s; screenshots in %s", time.Since(start).Round(100*time.Millisecond), artifacts)
}

// artifactsDir is where the run's screenshots go: $RELM_ARTIFACTS_DIR/dashboard-screenshots,
// emptied first, when that is set (CI keeps it); else a new directory under os.TempDir
// that outlives the test, so the screenshots can be looked at.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("RELM_ARTIFACTS_DIR"); root != "" {
		dir := filepath.Join(root, "dashboard-screenshots")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "relm-dashboard-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots go to %s (kept after the test)", dir)
	return dir
}

// testLogWriter streams a process's output into the test log, a line at a time.
type testLogWriter struct {
	t    *testing.T
	mu   sync.Mutex
	part []byte
}

var _ io.Writer = (*testLogWriter)(nil)

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		w.t.Log(string(w.part[:i]))
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *testLogWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.part) > 0 {
		w.t.Log(string(w.part))
		w.part = nil
	}
}
