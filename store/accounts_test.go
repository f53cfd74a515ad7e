package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestSessionsEndAndArePurged: a session is found by its token's hash until it is signed
// out or expires; the purge removes it a week later, and nothing else.
func TestSessionsEndAndArePurged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, url := pgtest.Open(t)
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	user, err := s.UserForGoogle(ctx, "sub-1", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"kept", "signed-out", "expired"} {
		if err := s.NewSession(ctx, []byte(token), user, "test", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.SessionByToken(ctx, []byte("kept")); err != nil || got.UserID != user || got.Email != "ann@example.com" {
		t.Fatalf("session: %+v %v", got, err)
	}
	if n, err := s.EndSessions(ctx, []byte("signed-out"), false); err != nil || n != 1 {
		t.Fatalf("sign out: %d %v", n, err)
	}
	if _, err := owner.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE token_hash = 'expired'`); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"signed-out", "expired"} {
		if _, err := s.SessionByToken(ctx, []byte(token)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session %s after it ended: %v", token, err)
		}
	}
	if n, err := s.PurgeSessions(ctx); err != nil || n != 0 {
		t.Fatalf("purge of sessions that ended just now: %d %v", n, err)
	}
	if _, err := owner.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '8 days' WHERE token_hash = 'expired';
		UPDATE sessions SET revoked_at = now() - interval '8 days' WHERE token_hash = 'signed-out'`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeSessions(ctx); err != nil || n != 2 {
		t.Fatalf("purge: %d %v, want 2", n, err)
	}
	if _, err := s.SessionByToken(ctx, []byte("kept")); err != nil {
		t.Fatalf("the live session was purged: %v", err)
	}
	// Another Google account cannot take over the address.
	if _, err := s.UserForGoogle(ctx, "sub-2", "ANN@example.com"); !errors.Is(err, store.ErrRefused) {
		t.Fatalf("a second subject for the address: %v, want ErrRefused", err)
	}
}
