package webhooks_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

// nominalDelays is the schedule docs/webhooks.md promises, after attempts 1 to 7.
var nominalDelays = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

func TestNextAttemptSchedule(t *testing.T) {
	t.Parallel()
	if webhooks.MaxAttempts != len(nominalDelays)+1 {
		t.Fatalf("MaxAttempts = %d, want %d", webhooks.MaxAttempts, len(nominalDelays)+1)
	}
	failedAt := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	constant := func(x float64) func() float64 { return func() float64 { return x } }
	for i, nominal := range nominalDelays {
		attempt := i + 1
		for _, tc := range []struct {
			rnd    float64
			factor float64
		}{
			{0, 0.8}, {0.5, 1}, {0.999999, 1.2}, {0.25, 0.9},
			{-3, 0.8}, {7, 1.2}, {math.NaN(), 0.8}, // out-of-range sources are clamped
		} {
			next, ok := webhooks.NextAttempt(attempt, failedAt, constant(tc.rnd))
			want := time.Duration(float64(nominal) * tc.factor)
			if !ok || absDuration(next.Sub(failedAt)-want) > time.Second {
				t.Errorf("NextAttempt(%d, rnd=%v) = +%s, %v; want +%s, true", attempt, tc.rnd, next.Sub(failedAt), ok, want)
			}
		}
	}
	for _, attempt := range []int{webhooks.MaxAttempts, webhooks.MaxAttempts + 1, 0, -1} {
		if next, ok := webhooks.NextAttempt(attempt, failedAt, constant(0.5)); ok || !next.IsZero() {
			t.Errorf("NextAttempt(%d) = %s, %v; want no further attempt", attempt, next, ok)
		}
	}
}

// TestNextAttemptSpan checks that the attempts of a delivery failing at every attempt
// span about a day, and that with jitter the span stays within ±20% of it.
func TestNextAttemptSpan(t *testing.T) {
	t.Parallel()
	var sum time.Duration
	for _, d := range nominalDelays {
		sum += d
	}
	if sum < 22*time.Hour || sum > 25*time.Hour {
		t.Fatalf("nominal schedule spans %s, want about a day", sum)
	}
	seq := []float64{0.1, 0.9, 0.3, 0.7, 0.5, 0.0, 0.99}
	for _, rnd := range []func(int) float64{
		func(int) float64 { return 0 },
		func(int) float64 { return 0.999999 },
		func(i int) float64 { return seq[i%len(seq)] },
	} {
		first := start()
		at, calls := first, 0
		for attempt := 1; ; attempt++ {
			next, ok := webhooks.NextAttempt(attempt, at, func() float64 { calls++; return rnd(attempt) })
			if !ok {
				if attempt != webhooks.MaxAttempts {
					t.Fatalf("gave up after attempt %d, want %d", attempt, webhooks.MaxAttempts)
				}
				break
			}
			if !next.After(at) {
				t.Fatalf("attempt %d: next attempt %s is not after %s", attempt, next, at)
			}
			at = next
		}
		if span := at.Sub(first); span < sum*8/10 || span > sum*12/10 {
			t.Fatalf("attempts span %s, want within ±20%% of %s", span, sum)
		}
		if calls != len(nominalDelays) {
			t.Fatalf("random source called %d times, want once per retry (%d)", calls, len(nominalDelays))
		}
	}
	// Without a source, math/rand places each delay within the bounds too.
	for range 100 {
		next, ok := webhooks.NextAttempt(3, start(), nil)
		if d := next.Sub(start()); !ok || d < 24*time.Minute || d > 36*time.Minute {
			t.Fatalf("NextAttempt(3, nil) = +%s, want 24m to 36m", d)
		}
	}
}

func start() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }

func absDuration(d time.Duration) time.Duration { return max(d, -d) }

// TestDocsRetryTable checks the schedule table of docs/webhooks.md against NextAttempt.
func TestDocsRetryTable(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for attempt := 1; attempt < webhooks.MaxAttempts; attempt++ {
		next, _ := webhooks.NextAttempt(attempt, start(), func() float64 { return 0.5 })
		wait := next.Sub(start())
		total += wait
		row := fmt.Sprintf("| %d | %s | %s |", attempt+1, hoursMinutes(wait), hoursMinutes(total))
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/webhooks.md lacks the retry table row %q", row)
		}
	}
}

// hoursMinutes writes d as the docs do: "2 h 36 min".
func hoursMinutes(d time.Duration) string {
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}
