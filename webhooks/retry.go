package webhooks

import (
	"math/rand/v2"
	"time"
)

// MaxAttempts is how many times a delivery is attempted before it is given up.
const MaxAttempts = 8

// retryDelays are the nominal waits after attempts 1 to 7: 23 h 36 min in all, so the
// last attempt comes about a day after the first.
var retryDelays = [MaxAttempts - 1]time.Duration{
	1 * time.Minute,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	8 * time.Hour,
	8 * time.Hour,
}

// Jitter is the most by which a retry's delay varies from its nominal value, as a
// fraction of it: delays are spread so that a receiver's outage does not end in a burst.
const Jitter = 0.2

// NextAttempt returns when to make the next attempt after attempt (counted from 1) failed
// at failedAt, and false when attempt was the last (MaxAttempts) or is out of range. rnd
// returns a number in [0, 1) that places the delay within ±Jitter of its nominal value;
// nil means math/rand/v2.
func NextAttempt(attempt int, failedAt time.Time, rnd func() float64) (time.Time, bool) {
	if attempt < 1 || attempt >= MaxAttempts {
		return time.Time{}, false
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	x := rnd()
	if !(x >= 0) { // also NaN
		x = 0
	}
	x = min(x, 1)
	nominal := retryDelays[attempt-1]
	return failedAt.Add(time.Duration(float64(nominal) * (1 - Jitter + 2*Jitter*x))), true
}
