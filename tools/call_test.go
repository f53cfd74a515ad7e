package tools

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestCallJSONDecodesAsCall: CallJSON decodes the input from the bytes the arguments were
// decoded from, so it must accept and refuse exactly what Call does with those arguments:
// the same input, the same validation of a wrong type, a key differing only in case (which
// encoding/json would match to a field) refused by the schema, and no arguments at all.
func TestCallJSONDecodesAsCall(t *testing.T) {
	var logs bytes.Buffer
	e := testRegistry(t, &logs, func(_ context.Context, in echoIn) (echoOut, error) { return echoOut{N: in.N}, nil })
	ctx := context.Background()
	for _, raw := range []string{`{"n": 7}`, ` {"n":7} `, `{"n": 0}`, `{"n": "7"}`, `{"N": 9, "n": 7}`, `{"n": 7, "N": 9}`, `{}`, `null`, ``} {
		args, derr := DecodeArgs([]byte(raw))
		if derr != nil {
			t.Fatalf("%s: %v", raw, derr)
		}
		want, werr := e.Call(ctx, args)
		got, gerr := e.CallJSON(ctx, []byte(raw), args)
		if fmt.Sprint(got) != fmt.Sprint(want) || (werr == nil) != (gerr == nil) || werr != nil && (werr.Code != gerr.Code || werr.Message != gerr.Message) {
			t.Errorf("%s: CallJSON %v, %+v; Call %v, %+v", raw, got, gerr, want, werr)
		}
	}
	if _, err := e.CallJSON(ctx, []byte(`{"N": 9, "n": 7}`), map[string]any{"N": json.Number("9"), "n": json.Number("7")}); err == nil || err.Code != CodeValidationFailed {
		t.Fatalf("a key differing in case must be refused, got %+v", err)
	}
}
