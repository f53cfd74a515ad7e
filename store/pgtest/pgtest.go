// Package pgtest gives each test its own fresh, fully migrated PostgreSQL database.
//
// It uses the server at RELM_TEST_DATABASE_URL when that is set, and otherwise starts a
// private throwaway cluster (see package localpg) the first time a test asks for a database.
// Each process migrates one template database once, and clones it for every test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/localpg"
)

// EnvURL names the variable holding the URL of a server to create test databases on.
// The URL may name any database there; its user needs permission to CREATE DATABASE and
// CREATEROLE (the migrations create the role relm_app and grant it to the migrating role,
// unless it already is a member). As a superuser it also gets the LEAKPROOF marks that
// store's plan test checks; otherwise that test is skipped.
const EnvURL = "RELM_TEST_DATABASE_URL"

// setupTimeout bounds starting a private cluster and migrating the template.
const setupTimeout = 2 * time.Minute

// server is where this process creates its test databases.
type server struct {
	admin    *url.URL         // a database on the server, for CREATE and DROP DATABASE
	template string           // the migrated database each test database is cloned from
	cluster  *localpg.Cluster // the private cluster, when we started one
	dir      string           // the private cluster's directory, removed in Main
}

var (
	setupOnce sync.Once
	srv       *server // set by setup, even when it fails partway, so Main can clean up
	setupErr  error
	createMu  sync.Mutex // serialises CREATE DATABASE ... TEMPLATE within this process
)

// Main wraps testing.M for packages that use pgtest: it runs the tests and then stops any
// private cluster it started and drops its template database. Use as:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := teardown(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// NewDatabase returns the URL of a new, fully migrated database for this test only; it is
// dropped in t.Cleanup. It fails the test if no PostgreSQL server can be had.
func NewDatabase(t testing.TB) string {
	t.Helper()
	setupOnce.Do(func() { srv, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	name := uniqueName("relm_test")
	createMu.Lock()
	err := srv.exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(srv.template))
	createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	return srv.url(name)
}

// setup finds or starts the server and creates the migrated template database.
func setup() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s := &server{}
	if env := os.Getenv(EnvURL); env != "" {
		u, err := url.Parse(env)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return s, fmt.Errorf("%s must be a postgres:// URL", EnvURL)
		}
		s.admin = u
	} else {
		dir, err := os.MkdirTemp("", "relm-pgtest-")
		if err != nil {
			return s, err
		}
		s.dir = dir
		c, err := localpg.Start(ctx, localpg.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return s, fmt.Errorf("start a private PostgreSQL (or set %s to use an existing server): %w", EnvURL, err)
		}
		s.cluster = c
		s.admin, _ = url.Parse(c.URL("postgres")) // localpg makes well-formed URLs
	}

	name := uniqueName("relm_tmpl")
	if err := s.exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return s, fmt.Errorf("create template database: %w", err)
	}
	s.template = name
	// Migrate closes its connections when it returns, as CREATE DATABASE ... TEMPLATE requires.
	if err := store.Migrate(ctx, s.url(name)); err != nil {
		return s, fmt.Errorf("migrate template database: %w", err)
	}
	return s, nil
}

// teardown stops the private cluster and removes it, or drops the template database from
// the shared server.
func teardown() error {
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if srv.cluster != nil {
		err = srv.cluster.Stop(ctx)
	} else if srv.template != "" {
		err = srv.exec(ctx, "DROP DATABASE IF EXISTS "+ident(srv.template)+" WITH (FORCE)")
	}
	if srv.dir != "" {
		if rmErr := os.RemoveAll(srv.dir); err == nil {
			err = rmErr
		}
	}
	return err
}

// exec runs one statement on the admin database, on a connection of its own.
func (s *server) exec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, s.admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// url returns the URL of database name on the server.
func (s *server) url(name string) string {
	u := *s.admin
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// uniqueName returns prefix plus this process's id and random hex: unique even among
// processes sharing one server.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b) // never fails
	return fmt.Sprintf("%s_%d_%s", prefix, os.Getpid(), hex.EncodeToString(b))
}

// ident quotes a database name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// Open makes a new database (NewDatabase) and connects to it twice: as the server does
// (store.Store, its sessions subject to row-level security) and as its owner (store.Admin,
// for workspaces and keys). Both are closed in t.Cleanup. It returns the URL too, for tests
// that reach under the API.
func Open(t testing.TB) (*store.Store, *store.Admin, string) {
	t.Helper()
	url := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Close)
	a, err := store.OpenAdmin(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(a.Close)
	return s, a, url
}

// Outage cuts the test database at dbURL off as a crash or failover would: it stops
// accepting connections, and its open sessions are ended (Outage returns once they are
// gone). restore lets connections in again. Both run their statements on the server's
// admin database; neither touches the testing.T, so a server goroutine may call them.
func Outage(ctx context.Context, dbURL string) (restore func(context.Context) error, err error) {
	u, err := url.Parse(dbURL)
	if err != nil || srv == nil {
		return nil, fmt.Errorf("pgtest: outage of %q: not a database from NewDatabase", dbURL)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if err := srv.exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS false"); err != nil {
		return nil, fmt.Errorf("pgtest: outage: %w", err)
	}
	restore = func(ctx context.Context) error {
		return srv.exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS true")
	}
	// pg_terminate_backend waits up to its timeout (ms) for each session to be gone.
	err = srv.exec(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	if err != nil {
		return restore, fmt.Errorf("pgtest: outage: %w", err)
	}
	return restore, nil
}
