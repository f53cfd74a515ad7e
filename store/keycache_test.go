package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// waitFor polls cond for up to two seconds and returns how long it took to hold.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: not after 2s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// TestKeyCacheDroppedOnRevoke: a key authenticated by one process (store) is served from
// its cache until it is revoked anywhere; the revoking process drops it at once, others
// when the database's notification arrives.
func TestKeyCacheDroppedOnRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin, url := pgtest.Open(t)
	other, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := admin.CreateAPIKey(ctx, ws.ID, auth.Live)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{s, other} {
		// The cache is used once the listener is up; authenticate until it serves the key.
		waitFor(t, "key cached", func() bool {
			if _, err := st.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			_, ok := st.CachedKey(secret)
			return ok
		})
	}
	if _, err := s.RevokeTenantAPIKey(ctx, auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live, KeyID: id}, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.CachedKey(secret); ok {
		t.Fatal("the revoking process still serves the key from its cache")
	}
	took := waitFor(t, "another process drops the revoked key", func() bool { _, ok := other.CachedKey(secret); return !ok })
	t.Logf("another process dropped the key %v after the revocation committed", took)
	for _, st := range []*store.Store{s, other} {
		if _, err := st.Authenticate(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a revoked key authenticates: %v", err)
		}
	}
}

// TestKeyCacheOffWithoutListener: while the notification listener is disconnected, no key
// is served from the cache (a revocation could be missed), and it resumes on reconnect.
func TestKeyCacheOffWithoutListener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin, _ := pgtest.Open(t)
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := admin.CreateAPIKey(ctx, ws.ID, auth.Live)
	if err != nil {
		t.Fatal(err)
	}
	cached := func() bool {
		if _, err := s.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		_, ok := s.CachedKey(secret)
		return ok
	}
	waitFor(t, "key cached", cached)
	if _, err := admin.RawPool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "cache off without a listener", func() bool { _, ok := s.CachedKey(secret); return !ok })
	waitFor(t, "cache back after reconnecting", cached)
}
