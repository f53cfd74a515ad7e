package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

type echoIn struct {
	N int `json:"n" minimum:"1"`
}

type echoOut struct {
	N int `json:"n"`
}

func testRegistry(t *testing.T, logs *bytes.Buffer, handle func(context.Context, echoIn) (echoOut, error)) *Entry {
	t.Helper()
	reg, err := NewRegistry(slog.New(slog.NewJSONHandler(logs, nil)), &Capability[echoIn, echoOut]{
		Info: Info{Name: "echo", Title: "Echo", Toolset: "test", Description: "Returns n.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/echo", Status: http.StatusOK}}, Handle: handle})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := reg.Lookup("echo")
	return e
}

func TestCallOutcomes(t *testing.T) {
	var logs bytes.Buffer
	ctx := WithRequestID(context.Background(), "req_test")
	e := testRegistry(t, &logs, func(_ context.Context, in echoIn) (echoOut, error) {
		switch in.N {
		case 2:
			return echoOut{}, NotFound("thing", "x")
		case 3:
			return echoOut{}, errors.New("database on fire: secret detail")
		case 4:
			panic("kaboom")
		case 5:
			return echoOut{}, fmt.Errorf("contact x: %w", &net.OpError{Op: "read", Err: errors.New("connection reset")})
		case 6:
			return echoOut{}, fmt.Errorf("contact x: %w", store.ErrUnavailable)
		}
		return echoOut{N: in.N}, nil
	})
	if out, err := e.Call(ctx, map[string]any{"n": 1}); err != nil || out.(echoOut).N != 1 {
		t.Fatalf("ok call: %v %v", out, err)
	}
	if _, err := e.Call(ctx, map[string]any{"n": 0}); err == nil || err.Code != CodeValidationFailed || err.Param != "n" {
		t.Fatalf("invalid input: %+v", err)
	}
	if _, err := e.Call(ctx, map[string]any{"n": 2}); err == nil || err.Code != CodeNotFound {
		t.Fatalf("domain error: %+v", err)
	}
	for _, n := range []int{3, 4} {
		_, err := e.Call(ctx, map[string]any{"n": n})
		if err == nil || err.Code != CodeInternal || err.Status != 500 || strings.Contains(err.Message, "secret") || strings.Contains(err.Message, "kaboom") {
			t.Fatalf("n=%d: %+v", n, err)
		}
	}
	// A database outage is retryable: 503 service_unavailable with retry_after, never for
	// other failures (n=3 above is a plain error, 500).
	if _, err := e.Call(ctx, map[string]any{"n": 6}); err == nil || err.Code != CodeUnavailable || err.Status != 503 || err.RetryAfter != 3 {
		t.Fatalf("outage: %+v", err)
	}
	// A network error the store did not mark (it never reached the store) stays a 500.
	if _, err := e.Call(ctx, map[string]any{"n": 5}); err == nil || err.Code != CodeInternal {
		t.Fatalf("unmarked network error: %+v", err)
	}
	if !strings.Contains(logs.String(), "database on fire") || !strings.Contains(logs.String(), "kaboom") ||
		!strings.Contains(logs.String(), "req_test") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("internal failures must be logged with request id and stack: %s", logs.String())
	}
}

// TestRegistryRequiresREST: every capability is served on both surfaces, so a registry
// refuses one without a REST route.
func TestRegistryRequiresREST(t *testing.T) {
	_, err := NewRegistry(slog.New(slog.DiscardHandler), &Capability[echoIn, echoOut]{
		Info: Info{Name: "echo", Title: "Echo", Toolset: "test", Description: "Returns n."}})
	if err == nil || !strings.Contains(err.Error(), "no REST route") {
		t.Fatalf("NewRegistry without a REST route: err = %v", err)
	}
}
