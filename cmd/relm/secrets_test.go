package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestSecretBox: a lasting secret gives a box that seals and opens what the old secrets
// sealed; a secret made for this process only gives an unavailable box, and old secrets
// without a current one are refused.
func TestSecretBox(t *testing.T) {
	t.Parallel()
	cur, old := server.NewSecretKey(), server.NewSecretKey()
	const binding = "email_integration/ws_1/live"
	oldBox, err := secrets.NewBox(old)
	if err != nil {
		t.Fatal(err)
	}
	underOld, err := oldBox.Seal([]byte("re_123"), binding)
	if err != nil {
		t.Fatal(err)
	}

	box, err := secretBox(cur, true, [][]byte{old})
	if err != nil || !box.Available() {
		t.Fatalf("persistent: %v %v", box.Available(), err)
	}
	if p, err := box.Open(underOld, binding); err != nil || string(p) != "re_123" || !box.NeedsRewrap(underOld) {
		t.Fatalf("a value under the old secret: %q %v", p, err)
	}

	box, err = secretBox(cur, false, nil)
	if err != nil || box.Available() {
		t.Fatalf("ephemeral: %v %v", box.Available(), err)
	}
	if _, err := box.Seal([]byte("re_123"), binding); !errors.Is(err, secrets.ErrNoKey) {
		t.Fatalf("ephemeral Seal: %v", err)
	}

	if _, err := secretBox(cur, false, [][]byte{old}); err == nil || !strings.Contains(err.Error(), "RELM_SECRET_KEY_OLD") {
		t.Fatalf("old secrets without a current one: %v", err)
	}
}

func TestParseOldSecrets(t *testing.T) {
	t.Parallel()
	a, b := server.NewSecretKey(), server.NewSecretKey()
	old, err := parseOldSecrets(" " + server.EncodeSecretKey(a) + ", " + server.EncodeSecretKey(b) + ",")
	if err != nil || len(old) != 2 || !bytes.Equal(old[0], a) || !bytes.Equal(old[1], b) {
		t.Fatalf("%x %v", old, err)
	}
	if old, err := parseOldSecrets(""); err != nil || len(old) != 0 {
		t.Fatalf("empty: %x %v", old, err)
	}
	const short = "c2hvcnQtYnV0LXNlY3JldA=="
	_, err = parseOldSecrets(server.EncodeSecretKey(a) + "," + short)
	if err == nil || !strings.Contains(err.Error(), "RELM_SECRET_KEY_OLD") || !strings.Contains(err.Error(), "#2") ||
		strings.Contains(err.Error(), short) || strings.Contains(err.Error(), server.EncodeSecretKey(a)) {
		t.Fatalf("a short old secret: %v", err)
	}
}

// TestServeWarnsWithoutLastingSecret: on an external database without RELM_SECRET_KEY,
// `relm serve` starts and says once that storing credentials fails until it is set; with it,
// nothing is said; old secrets without a current one stop it.
func TestServeWarnsWithoutLastingSecret(t *testing.T) {
	t.Setenv("RELM_SECRET_KEY", "")
	t.Setenv("RELM_SECRET_KEY_OLD", "")
	t.Setenv("RELM_DATABASE_URL", "")
	t.Setenv("RELM_APP_DATABASE_URL", "")
	db := pgtest.NewDatabase(t)
	key := server.EncodeSecretKey(server.NewSecretKey())

	logs := serveLogs(t, "--database-url", db)
	if n := strings.Count(logs, "storing credentials"); n != 1 || !strings.Contains(logs, "level=WARN") {
		t.Fatalf("want the warning once, got %d:\n%s", n, logs)
	}
	if logs := serveLogs(t, "--database-url", db, "--secret-key", key, "--secret-key-old", server.EncodeSecretKey(server.NewSecretKey())); strings.Contains(logs, "storing credentials") {
		t.Fatalf("warned with a secret key:\n%s", logs)
	}
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--database-url", db, "--secret-key-old", key}, io.Discard, quietLog())
	if err == nil || !strings.Contains(err.Error(), "RELM_SECRET_KEY_OLD") || strings.Contains(err.Error(), key) {
		t.Fatalf("old secrets without a current one: %v", err)
	}
}

// serveLogs runs `relm serve` with args until it listens, stops it and returns its logs.
func serveLogs(t *testing.T, args ...string) string {
	t.Helper()
	var logs syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), io.Discard, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(logs.String(), "relm listening") {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, logs.String())
		case <-deadline:
			cancel()
			t.Fatalf("serve did not start:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return logs.String()
}
