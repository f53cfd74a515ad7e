package server

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// authThrottle limits failed authentications per client address, in this process, before
// any key is looked up: each address has a bucket of `limit` failures that refills over a
// minute; an address whose bucket is empty is refused with 429 without a database lookup.
// Only failures take from the bucket, so a client using a valid key is never slowed by it
// unless its address also sends bad keys.
type authThrottle struct {
	limit   float64 // failures per minute, also the bucket's size
	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens  float64
	at      time.Time
	pending int // lookups under way, each of which may still fail
}

// maxBuckets bounds the memory the throttle holds; past it, full buckets are dropped.
const maxBuckets = 100_000

func newAuthThrottle(perMinute int) *authThrottle {
	return &authThrottle{limit: float64(perMinute), buckets: map[netip.Prefix]*bucket{}, now: time.Now}
}

// refill brings addr's bucket up to date; the caller holds mu.
func (t *authThrottle) refill(addr netip.Prefix) *bucket {
	now := t.now()
	b, ok := t.buckets[addr]
	if !ok {
		if len(t.buckets) >= maxBuckets {
			t.sweep(now)
		}
		b = &bucket{tokens: t.limit, at: now}
		t.buckets[addr] = b
	}
	b.tokens = min(t.limit, b.tokens+now.Sub(b.at).Minutes()*t.limit)
	b.at = now
	return b
}

// begin starts an authentication attempt of addr, returning 0, or how long addr must wait
// before it may try again. Attempts under way count against the bucket until done, so
// concurrent attempts cannot overdraw it.
func (t *authThrottle) begin(addr netip.Prefix) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.refill(addr)
	if b.tokens-float64(b.pending) >= 1 {
		b.pending++
		return 0
	}
	return max(time.Second, time.Duration((1+float64(b.pending)-b.tokens)/t.limit*float64(time.Minute)))
}

// done ends an attempt begun by begin; a failed one takes a token from addr's bucket.
func (t *authThrottle) done(addr netip.Prefix, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.refill(addr)
	b.pending--
	if failed {
		b.tokens = max(0, b.tokens-1)
	}
}

// sweep drops the buckets that have refilled, and if that frees nothing, all of them.
func (t *authThrottle) sweep(now time.Time) {
	for a, b := range t.buckets {
		if b.pending == 0 && b.tokens+now.Sub(b.at).Minutes()*t.limit >= t.limit {
			delete(t.buckets, a)
		}
	}
	if len(t.buckets) >= maxBuckets {
		clear(t.buckets)
	}
}

// refuse answers a throttled address with 429 and the rate-limit headers.
func (t *authThrottle) refuse(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(t.limit)))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(t.now().Add(time.Duration(secs)*time.Second).Unix(), 10))
	writeErr(r.Context(), w, newAuthThrottledError(int(t.limit)))
}

// clientAddr is the address a request's limits are kept by: the peer's IP, with IPv6
// addresses grouped by /64 (one host usually holds a whole /64).
func clientAddr(r *http.Request) netip.Prefix {
	return addrPrefix(r.RemoteAddr)
}

func addrPrefix(hostport string) netip.Prefix {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// sampledLog writes at most one line per interval for a kind of event that may come in a
// flood (refused authentications), saying how many it left out since the last line.
type sampledLog struct {
	log      *slog.Logger
	interval time.Duration
	mu       sync.Mutex
	last     time.Time
	skipped  int
}

func (s *sampledLog) Warn(msg string, args ...any) {
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.last) < s.interval {
		s.skipped++
		s.mu.Unlock()
		return
	}
	skipped := s.skipped
	s.last, s.skipped = now, 0
	s.mu.Unlock()
	s.log.Warn(msg, append(args, "not_logged_since_last", skipped)...)
}
