// Package resendtest is a fake Resend API for tests: an httptest.Server that speaks the
// request and response shapes of the endpoints Relm uses (POST /emails and the domain
// endpoints), with Resend's error envelope, names and messages, per-account API keys,
// idempotency keys, rate-limit headers and injectable failures. What it covers and what it
// leaves out is listed in docs/email-resend.md.
package resendtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestingDomain is Resend's shared sending domain (onboarding@resend.dev), usable by every
// account without verification but only to write to Resend's test addresses
// (delivered@resend.dev and the like).
const TestingDomain = "resend.dev"

// RateLimit is the requests-per-second limit the fake announces in ratelimit-limit.
const RateLimit = 10

// SentMessage is an email the fake accepted.
type SentMessage struct {
	ID             string
	APIKey         string // the key that sent it
	From           string
	To             []string
	Subject        string
	HTML           string
	Text           string
	ReplyTo        []string
	IdempotencyKey string
}

// Server is a fake Resend. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	tb testing.TB

	mu        sync.Mutex
	requests  int
	keys      map[string]*apiKey
	names     map[string]bool // domain names registered in any account, as Resend allows one
	dnsAbsent map[string]bool // domain names whose records verification will not find
	sent      []SentMessage
	failLeft  int
	failWith  int
}

// account is a Resend team: its domains, idempotency keys and quota, shared by its keys.
type account struct {
	domains    []*domain // newest first
	idempotent map[string]idempotentSend
	dailyQuota int // emails per day; 0 is unlimited
	sentToday  int
}

type apiKey struct {
	key     string
	account *account
	full    bool
}

// NewServer starts a fake Resend with no keys, closed when tb ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		keys:      map[string]*apiKey{},
		names:     map[string]bool{},
		dnsAbsent: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.Handle("POST /emails", s.authorized(true, s.sendEmail))
	mux.Handle("GET /domains", s.authorized(false, s.listDomains))
	mux.Handle("POST /domains", s.authorized(false, s.createDomain))
	mux.Handle("GET /domains/{id}", s.authorized(false, s.getDomain))
	mux.Handle("POST /domains/{id}/verify", s.authorized(false, s.verifyDomain))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "The requested endpoint does not exist.")
	})
	s.Server = httptest.NewServer(s.edge(mux))
	tb.Cleanup(s.Close)
	return s
}

// AddKey registers key as the only key of a new account: full access, or sending only.
func (s *Server) AddKey(key string, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = &apiKey{key: key, account: &account{idempotent: map[string]idempotentSend{}}, full: full}
}

// AddTeamKey registers key in the same account as existing, as a team's second key.
func (s *Server) AddTeamKey(existing, key string, full bool) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.mustKey(existing)
	s.keys[key] = &apiKey{key: key, account: k.account, full: full}
}

// AddDomain adds the domain name (in us-east-1) to key's account, verified or not yet
// checked, without going through the API, and returns its id. A name can be registered
// only once across all accounts, as in Resend.
func (s *Server) AddDomain(key, name string, verified bool) string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.mustKey(key)
	name = strings.ToLower(name)
	if s.names[name] {
		s.tb.Fatalf("resendtest: the domain %s is already registered", name)
	}
	d := newDomain(name, "us-east-1", time.Now())
	if verified {
		d.setStatus("verified")
	}
	k.account.domains = append([]*domain{d}, k.account.domains...)
	s.names[d.name] = true
	return d.id
}

// SetDNSPublished says whether the DNS records of the domain name are published (the
// default): POST /domains/{id}/verify marks the domain verified when they are, and failed
// when they are not.
func (s *Server) SetDNSPublished(name string, published bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dnsAbsent[strings.ToLower(name)] = !published
}

// SetDailyQuota limits key's account to n accepted emails; further sends fail with 429
// daily_quota_exceeded. Zero removes the limit.
func (s *Server) SetDailyQuota(key string, n int) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustKey(key).account.dailyQuota = n
}

// FailNext makes the next n requests (any endpoint, any key) fail with status: 429
// (rate_limit_exceeded, with retry-after: 1), 500 (application_error) or 503
// (service_unavailable).
func (s *Server) FailNext(n, status int) {
	s.tb.Helper()
	if _, ok := injected[status]; !ok {
		s.tb.Fatalf("resendtest: FailNext(%d, %d): status must be 429, 500 or 503", n, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failWith = n, status
}

// injected are the failures FailNext can make: Resend's name and message for each status.
var injected = map[int][2]string{
	http.StatusTooManyRequests:     {"rate_limit_exceeded", "Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit."},
	http.StatusInternalServerError: {"application_error", "An unexpected error occurred."},
	http.StatusServiceUnavailable:  {"service_unavailable", "API is temporarily unavailable"},
}

// Sent returns the emails accepted so far, oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// Requests is the number of HTTP requests received, refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// mustKey returns a registered key; s.mu is held.
func (s *Server) mustKey(key string) *apiKey {
	k, ok := s.keys[key]
	if !ok {
		s.tb.Fatalf("resendtest: no key %q; call AddKey first", key)
	}
	return k
}

// edge does what happens before Resend's API sees a request: Cloudflare's refusal of
// requests without a User-Agent, rate-limit headers, and failures asked for by FailNext.
func (s *Server) edge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		if r.Header.Get("User-Agent") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "error code: 1010")
			return
		}

		s.mu.Lock()
		fail := 0
		if s.failLeft > 0 {
			s.failLeft--
			fail = s.failWith
		}
		s.mu.Unlock()
		h := w.Header()
		h.Set("ratelimit-limit", fmt.Sprint(RateLimit))
		h.Set("ratelimit-remaining", fmt.Sprint(RateLimit-1))
		h.Set("ratelimit-reset", "1")
		if fail != 0 {
			if fail == http.StatusTooManyRequests {
				h.Set("ratelimit-remaining", "0")
				h.Set("retry-after", "1")
			}
			writeError(w, fail, injected[fail][0], injected[fail][1])
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks the Authorization header as Resend does and runs h with the key.
// Unknown keys are refused with 401 on sending endpoints and 400 on the others; keys that
// may only send are refused on the others.
func (s *Server) authorized(sending bool, h func(http.ResponseWriter, *http.Request, *apiKey)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			writeError(w, http.StatusUnauthorized, "missing_api_key", "Missing API key in the authorization header.")
			return
		}
		s.mu.Lock()
		k := s.keys[token]
		s.mu.Unlock()
		switch {
		case k == nil && sending:
			writeError(w, http.StatusUnauthorized, "validation_error", "API key is invalid")
		case k == nil:
			writeError(w, http.StatusBadRequest, "validation_error", "API key is invalid")
		case !k.full && !sending:
			writeError(w, http.StatusUnauthorized, "restricted_api_key", "This API key is restricted to only send emails.")
		default:
			h(w, r, k)
		}
	})
}

// writeError writes Resend's error envelope.
func writeError(w http.ResponseWriter, status int, name, message string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": message, "name": name})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newID returns a random UUID (version 4), the form of Resend's ids.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
