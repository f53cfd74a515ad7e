package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/rest"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"golang.org/x/sync/singleflight"
)

// newRequestID is the id of a request, over HTTP or stdio. It begins with the time
// (store.NewTimeID): the events a request records are indexed by it (undo_request), and
// new ids then append to that index instead of writing a random page of it.
func newRequestID() string { return store.NewTimeID("req_") }

// stampHeaders gives every request an id and every response Request-Id and Relm-Version.
func stampHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("Request-Id", id)
		w.Header().Set("Relm-Version", rest.APIVersion)
		next.ServeHTTP(w, r.WithContext(tools.WithRequestID(r.Context(), id)))
	})
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one structured line per request. Bodies are never logged.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		log.InfoContext(r.Context(), "request", "request_id", tools.RequestID(r.Context()), "method", r.Method,
			"path", r.URL.Path, "status", rec.status, "duration_ms", time.Since(start).Milliseconds())
	})
}

// recoverPanics turns a panic into a 500 with the request id, logged with its stack.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.ErrorContext(r.Context(), "panic", "request_id", tools.RequestID(r.Context()),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeErr(r.Context(), w, tools.NewError(tools.CodeInternal, "Something went wrong on our side. Retry later, and quote the request_id if it keeps happening."))
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; reading past the cap fails with *http.MaxBytesError.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > rest.MaxBodyBytes {
			writeErr(r.Context(), w, tools.NewError(tools.CodeTooLarge, "The request body is larger than %d bytes. Send less data per request.", rest.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, rest.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authenticate requires a valid, unrevoked API key on /v1 and /mcp and puts its caller in
// the request context. An address that keeps failing is throttled before its keys are
// looked up, and refusals are logged at a sampled rate.
// resourceMetadata, when not "", is the OAuth protected resource metadata URL every
// challenge names.
func authenticate(log *slog.Logger, s *store.Store, l Limits, resourceMetadata string, next http.Handler) http.Handler {
	throttle := newAuthThrottle(l.AuthFailures)
	refusals := &sampledLog{log: log, interval: time.Second}
	var lookups singleflight.Group
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !needsKey(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		addr := clientAddr(r)
		header := r.Header.Get("Authorization")
		c, known := cachedKey(s, header)
		var refused *keyRefusal
		var err error
		if !known {
			// Concurrent lookups of one key from one address are one lookup, and one attempt
			// against the address's failure bucket: they succeed or fail together.
			v, _, _ := lookups.Do(addr.String()+" "+header, func() (any, error) {
				if wait := throttle.begin(addr); wait > 0 {
					return lookup{wait: wait}, nil
				}
				c, refused, err := lookUpKey(context.WithoutCancel(r.Context()), s, header)
				throttle.done(addr, refused != nil)
				return lookup{c, refused, err, 0}, nil
			})
			l := v.(lookup)
			if l.wait > 0 {
				refusals.Warn("authentication throttled", "client", addr.String(), "retry_after", l.wait.Round(time.Second).String())
				throttle.refuse(w, r, l.wait)
				return
			}
			c, refused, err = l.caller, l.refused, l.err
		}
		if err != nil {
			log.ErrorContext(r.Context(), "authenticate", "request_id", tools.RequestID(r.Context()), "err", err)
			writeErr(r.Context(), w, tools.Unexpected(err, "Could not check the API key right now. Retry shortly."))
			return
		}
		if refused != nil {
			refusals.Warn("authentication refused", "client", addr.String(), "reason", refused.reason, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", bearerChallenge(r.Header.Get("Authorization"), refused, resourceMetadata))
			writeErr(r.Context(), w, tools.NewError(tools.CodeUnauthorized, "%s", refused.message))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), c)))
	})
}

// lookup is what looking a key up found, or how long its address must wait first.
type lookup struct {
	caller  auth.Caller
	refused *keyRefusal
	err     error
	wait    time.Duration
}

// cachedKey is the caller of a well-formed key the store has authenticated lately; such a
// key is known valid, so its requests skip the failure throttle.
func cachedKey(s *store.Store, header string) (auth.Caller, bool) {
	secret, ok := auth.ParseBearer(header)
	if !ok {
		return auth.Caller{}, false
	}
	return s.CachedKey(secret)
}

// keyRefusal is why a request's key was refused: a reason for the log and a message for
// the client.
type keyRefusal struct{ reason, message string }

// lookUpKey finds the caller behind an Authorization header, or says why there is none;
// err is a failure on our side.
func lookUpKey(ctx context.Context, s *store.Store, header string) (auth.Caller, *keyRefusal, error) {
	if header == "" {
		return auth.Caller{}, &keyRefusal{"missing", "Missing API key. Send Authorization: Bearer sk_live_… (or sk_test_…)."}, nil
	}
	secret, ok := auth.ParseBearer(header)
	if !ok {
		return auth.Caller{}, &keyRefusal{"malformed", "Malformed API key. Send Authorization: Bearer followed by a key that starts with sk_live_ or sk_test_."}, nil
	}
	c, err := s.Authenticate(ctx, secret)
	if errors.Is(err, store.ErrNotFound) && auth.IsAccessToken(secret) {
		return c, &keyRefusal{"unknown, expired or revoked access token", "Unknown, expired or revoked access token. Refresh it, or connect the application again."}, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, &keyRefusal{"unknown or revoked", "Unknown or revoked API key. Create a new key with `relm keys create`."}, nil
	}
	return c, nil, err
}

// newAuthThrottledError refuses an address that failed authentication too often.
func newAuthThrottledError(perMinute int) *tools.Error {
	return tools.NewError(tools.CodeRateLimited, "Too many requests from this address failed authentication "+
		"(at most %d a minute). Wait Retry-After seconds, then send a valid key: Authorization: Bearer sk_live_… (or sk_test_…).", perMinute)
}

// routed answers unknown routes and wrong methods with the JSON error body instead of the
// mux's plain text.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeErr(r.Context(), w, tools.NewError(tools.CodeMethodNotAllowed, "%s is not supported on %s. Use %s.", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
			return
		}
		writeErr(r.Context(), w, tools.NewError(tools.CodeNotFound, "No route %s %s. See /openapi.json for the available routes.", r.Method, r.URL.Path))
	})
}
