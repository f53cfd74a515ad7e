package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

// --- begin docs/webhooks.md ---
// verifyRelmSignature returns nil if header (the relm-signature value) signs body (the raw
// bytes, exactly as received) with secret, within 5 minutes of now.
func verifyRelmSignature(header string, body []byte, secret string, now time.Time) error {
	var t string
	var signatures []string
	for part := range strings.SplitSeq(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "t":
			t = value
		case "v1":
			signatures = append(signatures, value)
		}
	}
	unix, err := strconv.ParseInt(t, 10, 64)
	if err != nil || len(signatures) == 0 {
		return errors.New("malformed relm-signature header")
	}
	mac := hmac.New(sha256.New, []byte(secret)) // the whole "whsec_…" string is the key
	mac.Write([]byte(t + "."))
	mac.Write(body)
	expected := []byte(hex.EncodeToString(mac.Sum(nil)))
	matched := false
	for _, s := range signatures { // every v1 entry: one per secret during a rotation
		matched = matched || hmac.Equal(expected, []byte(s))
	}
	if !matched {
		return errors.New("no matching signature")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside tolerance")
	}
	return nil
}

// --- end docs/webhooks.md ---

// TestPlainGoVerifier runs the crypto/hmac verifier of docs/webhooks.md on what Sign
// produces.
func TestPlainGoVerifier(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, c := range docsVerifierCases(now) {
		err := verifyRelmSignature(c.header, []byte(c.body), c.secret, now)
		if (err == nil) != c.accepts {
			t.Errorf("%s: verifyRelmSignature = %v, want accepted=%v", c.name, err, c.accepts)
		}
		// The package's Verify agrees.
		if err := webhooks.Verify(c.header, []byte(c.body), c.secret, 0, now); (err == nil) != c.accepts {
			t.Errorf("%s: Verify = %v, want accepted=%v", c.name, err, c.accepts)
		}
	}
}
