package localpg

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStartStopRestart starts a cluster, queries it, and restarts it on the same directory,
// which only works if the persisted password is reused.
func TestStartStopRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}
	if os.Geteuid() == 0 {
		// As root, postgres runs as an unprivileged user, which cannot get through the
		// testing package's private (0700) parent of t.TempDir until we open it up.
		_, err := Start(ctx, opts)
		if err == nil || !strings.Contains(err.Error(), "not searchable") {
			t.Fatalf("Start under an unsearchable parent: err = %v", err)
		}
		if err := os.Chmod(filepath.Dir(opts.Dir), 0o711); err != nil {
			t.Fatal(err)
		}
	}

	c := start(t, ctx, opts)
	selectOne(t, ctx, c)
	password, err := os.ReadFile(filepath.Join(opts.Dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(opts.Dir, "password")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v, %v; want mode 0600", fi.Mode(), err)
	}

	// A second server on the same data directory must be refused while the first runs.
	if _, err := Start(ctx, opts); err == nil || !strings.Contains(err.Error(), "another server is using this data directory") {
		t.Errorf("second Start on a busy directory: err = %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	c = start(t, ctx, opts)
	selectOne(t, ctx, c)
	if again, _ := os.ReadFile(filepath.Join(opts.Dir, "password")); string(again) != string(password) {
		t.Errorf("password changed across restarts")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop on a stopped cluster: %v", err)
	}
}

// start starts a cluster and makes sure the test never leaves it running.
func start(t *testing.T, ctx context.Context, opts Options) *Cluster {
	t.Helper()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

// selectOne checks that the cluster answers a query.
func selectOne(t *testing.T, ctx context.Context, c *Cluster) {
	t.Helper()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("select 1 = %d, %v", n, err)
	}
}

func TestSortNewestFirst(t *testing.T) {
	dirs := []string{"/usr/lib/postgresql/9.6/bin", "/opt/homebrew/opt/postgresql/bin",
		"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/14/bin"}
	sortNewestFirst(dirs)
	want := "/usr/lib/postgresql/16/bin /usr/lib/postgresql/14/bin /usr/lib/postgresql/9.6/bin /opt/homebrew/opt/postgresql/bin"
	if got := strings.Join(dirs, " "); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
