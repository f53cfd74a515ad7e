package main

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
)

// TestAttackUnauthenticatedFlood: a client guessing keys as fast as it can gets 401 for
// its first few guesses and 429 with Retry-After after that, without a key lookup each;
// the refusals are logged at a sampled rate; another address is served normally.
func TestAttackUnauthenticatedFlood(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, "--auth-failure-limit", "20")
	key := tg.key("victim", auth.Live)
	attacker := client("")
	var unauthorized, throttled, other atomic.Int64
	var retryAfter atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 250 {
				guess := "sk_live_" + strings.Repeat(string(rune('a'+w)), 31) + string(rune('A'+i%26))
				r := tg.send(attacker, "GET", "/v1/contacts", guess, "")
				switch r.Status {
				case 401:
					unauthorized.Add(1)
				case 429:
					throttled.Add(1)
					if r.errorCode() != "rate_limited" || r.Header.Get("X-RateLimit-Limit") != "20" {
						t.Errorf("throttled answer: %v %s", r.Header, r.Body)
					}
					retryAfter.Store(r.Header.Get("Retry-After"))
				default:
					other.Add(1)
				}
			}
		})
	}
	// Meanwhile a valid client at another address works.
	for range 20 {
		if r := tg.send(client("127.0.0.2"), "GET", "/v1/contacts", key, ""); r.Status != 200 {
			t.Fatalf("a valid client at another address: %d %s", r.Status, r.Body)
		}
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("2000 guesses in %v: %d unauthorized (each a key lookup), %d throttled, Retry-After %v",
		took, unauthorized.Load(), throttled.Load(), retryAfter.Load())
	// 20 a minute may fail, plus what refills while the flood lasts.
	if max := 20 + int64(took.Minutes()*20) + 1; unauthorized.Load() > max || other.Load() > 0 {
		t.Fatalf("%d guesses reached the key lookup (at most %d may), %d other answers", unauthorized.Load(), max, other.Load())
	}
	logged := len(regexp.MustCompile(`msg="authentication (refused|throttled)"`).FindAllString(tg.logs.String(), -1))
	if max := int(took.Seconds()) + 2; logged == 0 || logged > max {
		t.Fatalf("%d refusal log lines for %v of flooding; want 1 to %d (sampled)", logged, took, max)
	}
}
