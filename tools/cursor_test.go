package tools

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
)

var testSecret = bytes.Repeat([]byte{7}, MinSecretKeyBytes)

// scoped returns a context whose list call is list with args, for caller c, under secret.
func scoped(t testing.TB, secret []byte, c auth.Caller, list string, args map[string]any) context.Context {
	t.Helper()
	reg, err := NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.EnableCursors(secret); err != nil {
		t.Fatal(err)
	}
	return reg.withCursorScope(auth.WithCaller(context.Background(), c), list, args)
}

var acmeLive = auth.Caller{WorkspaceID: "ws_acme", Mode: auth.Live}

func isInvalidCursor(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Code == CodeInvalidCursor && te.Param == "cursor" && te.Status == 400
}

func TestCursorRoundTrip(t *testing.T) {
	args := map[string]any{"filter": map[string]any{"amount": map[string]any{"gte": 1}}, "email": "a@b.c", "limit": 5}
	ctx := scoped(t, testSecret, acmeLive, "list_contacts", args)
	token, err := sealCursor(ctx, 1234567890, "con_abc")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) > 64 {
		t.Errorf("cursor %q is %d characters; it should stay compact", token, len(token))
	}
	// The same call with another limit, and numbers spelled otherwise, opens it.
	same := scoped(t, testSecret, acmeLive, "list_contacts",
		map[string]any{"email": "a@b.c", "filter": map[string]any{"amount": map[string]any{"gte": 1.0}}, "limit": 50, "cursor": token})
	key, id, err := openCursor(same, token)
	if err != nil || key != 1234567890 || id != "con_abc" {
		t.Fatalf("open: %d %q %v", key, id, err)
	}
}

// TestCursorRefusals: a cursor opens only for the caller, list, arguments and secret it was
// made for, and any change to its text is refused.
func TestCursorRefusals(t *testing.T) {
	args := map[string]any{"email": "a@b.c"}
	token, err := sealCursor(scoped(t, testSecret, acmeLive, "list_contacts", args), 42, "con_abc")
	if err != nil {
		t.Fatal(err)
	}
	otherSecret := bytes.Repeat([]byte{8}, MinSecretKeyBytes)
	for name, ctx := range map[string]context.Context{
		"another workspace": scoped(t, testSecret, auth.Caller{WorkspaceID: "ws_globex", Mode: auth.Live}, "list_contacts", args),
		"another mode":      scoped(t, testSecret, auth.Caller{WorkspaceID: "ws_acme", Mode: auth.Test}, "list_contacts", args),
		"another list":      scoped(t, testSecret, acmeLive, "list_companies", args),
		"another filter":    scoped(t, testSecret, acmeLive, "list_contacts", map[string]any{"email": "x@b.c"}),
		"no filter":         scoped(t, testSecret, acmeLive, "list_contacts", map[string]any{}),
		"another secret":    scoped(t, otherSecret, acmeLive, "list_contacts", args),
	} {
		if _, _, err := openCursor(ctx, token); !isInvalidCursor(err) {
			t.Errorf("%s: %v, want invalid_cursor", name, err)
		}
	}

	ctx := scoped(t, testSecret, acmeLive, "list_contacts", args)
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	var bad []string
	for i := range raw { // every bit of every byte
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			bad = append(bad, base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for n := 1; n < len(token); n++ {
		bad = append(bad, token[:n])
	}
	bad = append(bad, token+"A", token+"=", token+"\n", " "+token, strings.ToUpper(token), strings.Repeat("A", MaxCursorLen+1),
		base64.RawURLEncoding.EncodeToString([]byte("contact|1|con_\x00")),
		base64.RawURLEncoding.EncodeToString([]byte("contact|1|\xff\xfe")),
		base64.StdEncoding.EncodeToString(raw), "%%%", "")
	for _, b := range bad {
		if b == token {
			continue
		}
		if _, _, err := openCursor(ctx, b); !isInvalidCursor(err) {
			t.Errorf("%q: %v, want invalid_cursor", b, err)
		}
	}

	// Positions the server never issues are refused even under a valid tag.
	s, _ := scopeOf(ctx)
	for _, id := range []string{"con_\x00", "\xff\xfe", "", strings.Repeat("x", cursorMaxID+1)} {
		body := binary.BigEndian.AppendUint64([]byte{cursorVersion}, 1)
		body = append(body, id...)
		forged := base64.RawURLEncoding.EncodeToString(append(body, s.tag(body)...))
		if _, _, err := openCursor(ctx, forged); !isInvalidCursor(err) {
			t.Errorf("id %q under a valid tag: %v, want invalid_cursor", id, err)
		}
	}
}

func TestCursorNeedsScopeAndSecret(t *testing.T) {
	if _, err := NewCursors(make([]byte, MinSecretKeyBytes-1)); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if _, err := sealCursor(context.Background(), 1, "con_x"); err == nil || isInvalidCursor(err) {
		t.Fatalf("sealing without a scope: %v, want an internal error", err)
	}
}

// FuzzOpenCursor: any text either opens to a position that seals back to exactly that text
// (one spelling per cursor), or is invalid_cursor; it never panics.
func FuzzOpenCursor(f *testing.F) {
	ctx := scoped(f, testSecret, acmeLive, "list_contacts", map[string]any{})
	valid, err := sealCursor(ctx, 1<<50, "con_abc")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{valid, valid[:len(valid)-1], "", "bm9wZQ", "%%%",
		base64.RawURLEncoding.EncodeToString([]byte("contact|1|con_\x00")),
		base64.RawURLEncoding.EncodeToString([]byte("contact|1|\xff"))} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		key, id, err := openCursor(ctx, token)
		if err != nil {
			if !isInvalidCursor(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if again, err := sealCursor(ctx, key, id); err != nil || again != token {
			t.Fatalf("opened %q to (%d, %q), which seals to %q %v", token, key, id, again, err)
		}
	})
}
