package email_test

import (
	"context"
	"testing"

	"github.com/relmcrm/relm/email"
)

func TestCheckKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	if got, err := f.client.CheckKey(ctx, fullKey); err != nil || got != email.FullAccess {
		t.Errorf("full-access key: %q, %v; want %q", got, err, email.FullAccess)
	}
	if got, err := f.client.CheckKey(ctx, sendKey); err != nil || got != email.SendingOnly {
		t.Errorf("sending-only key: %q, %v; want %q (accepted)", got, err, email.SendingOnly)
	}
	for _, key := range []string{"re_unknown", ""} {
		got, err := f.client.CheckKey(ctx, key)
		if got != "" {
			t.Errorf("key %q: access %q, want none", key, got)
		}
		e := wantKind(t, err, email.InvalidKey)
		if e.Retryable() {
			t.Errorf("key %q: an invalid key is retryable", key)
		}
	}
}

func TestCheckKeyPassesOnOtherFailures(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.FailNext(1, 503)
	_, err := f.client.CheckKey(context.Background(), fullKey)
	if e := wantKind(t, err, email.ServerError); !e.Retryable() {
		t.Errorf("a 503 is not retryable: %v", err)
	}
}
