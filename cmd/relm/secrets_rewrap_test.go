package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

// TestSecretsRewrap: after a change of server secret, `relm secrets rewrap` seals every
// stored credential (email keys, webhook secrets current and previous) under the new one,
// so that the old secret can go; a second run changes nothing.
func TestSecretsRewrap(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	ctx := context.Background()
	oldSecret, newSecret := server.NewSecretKey(), server.NewSecretKey()
	oldBox, err := secrets.NewBox(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := store.OpenAdmin(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	seal := func(kind, id, plain string) string {
		s, err := oldBox.Seal([]byte(plain), tools.SealedBinding(store.SealedSecret{Kind: kind, WorkspaceID: ws.ID, Mode: auth.Live, ID: id}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	conn := testkit.Conn(t, dbURL)
	endpoint := "whep_rewraprewraprewraprewrap"
	if _, err := conn.Exec(ctx, `INSERT INTO email_integrations (workspace_id, mode, api_key_sealed, api_key_last4, from_email, access)
		VALUES ($1, 'live', $2, 'wxyz', 'a@example.com', 'full')`, ws.ID, seal("email_integration", "", "re_secretkey_wxyz")); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO webhook_endpoints (id, workspace_id, mode, url, events, secret, previous_secret, previous_secret_expires_at)
		VALUES ($1, $2, 'live', 'https://hooks.example.com', '{*}', $3, $4, now() + interval '1 day')`,
		endpoint, ws.ID, seal("webhook_endpoint", endpoint, "whsec_new"), seal("webhook_endpoint", endpoint, "whsec_old")); err != nil {
		t.Fatal(err)
	}
	rewrap := func() string {
		var out bytes.Buffer
		err := run(ctx, []string{"secrets", "rewrap", "--database-url", dbURL, "--secret-key", server.EncodeSecretKey(newSecret),
			"--secret-key-old", server.EncodeSecretKey(oldSecret)}, &out, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got := rewrap(); !strings.HasPrefix(got, "3 ") {
		t.Fatalf("first rewrap: %q", got)
	}
	if got := rewrap(); !strings.HasPrefix(got, "0 ") {
		t.Fatalf("second rewrap: %q", got)
	}
	newBox, err := secrets.NewBox(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	var key, cur, prev string
	if err := conn.QueryRow(ctx, `SELECT i.api_key_sealed, w.secret, w.previous_secret FROM email_integrations i, webhook_endpoints w`).Scan(&key, &cur, &prev); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, id, sealed, want string }{
		{"email_integration", "", key, "re_secretkey_wxyz"},
		{"webhook_endpoint", endpoint, cur, "whsec_new"},
		{"webhook_endpoint", endpoint, prev, "whsec_old"},
	} {
		got, err := newBox.Open(c.sealed, tools.SealedBinding(store.SealedSecret{Kind: c.kind, WorkspaceID: ws.ID, Mode: auth.Live, ID: c.id}))
		if err != nil || string(got) != c.want {
			t.Fatalf("%s after rewrap: %q %v", c.kind, got, err)
		}
	}
}
