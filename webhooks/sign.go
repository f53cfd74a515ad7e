package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every endpoint signing secret.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock
// when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify; the error it returns wraps one of them with detail.
var (
	ErrNoSignature      = errors.New("no relm-signature header")
	ErrMalformedHeader  = errors.New("malformed relm-signature header")
	ErrNoMatch          = errors.New("no v1 signature matches the body and secret")
	ErrOutsideTolerance = errors.New("relm-signature timestamp is outside the tolerance")
)

// errNoSecret is a caller's bug: an empty key would let anyone sign.
var errNoSecret = errors.New("webhooks: Verify needs a non-empty secret")

// NewSecret returns a fresh signing secret: "whsec_" and 32 random bytes in unpadded
// base64url.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program rather than return an error
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Sign returns the relm-signature header value for body sent at t: "t=<unix seconds>"
// followed by one ",v1=<hex HMAC-SHA256>" per secret, in the order given (newest first).
// Each HMAC is keyed with the whole secret string, "whsec_" included, over "<t>.<body>".
// With no secret it returns a header that every verifier refuses.
func Sign(body []byte, t time.Time, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

// mac is HMAC-SHA256 keyed with secret over "<ts>.<body>".
func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks that header, a relm-signature value, signs body with secret and that its
// timestamp is within tolerance of now (DefaultTolerance when tolerance is zero or less).
// Any one v1 entry may match, so a receiver holding either secret of a rotation verifies.
// The error wraps ErrNoSignature, ErrMalformedHeader, ErrNoMatch or ErrOutsideTolerance.
func Verify(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	if secret == "" {
		return errNoSecret
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("%w: check that the secret is this endpoint's and that the body is verified exactly as received, before any parsing", ErrNoMatch)
	}
	unix, _ := strconv.ParseInt(ts, 10, 64) // parseHeader checked it
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now (tolerance %s); check the receiver's clock, or the message is a replay",
			ErrOutsideTolerance, time.Unix(unix, 0).UTC().Format(time.RFC3339), age.Round(time.Second), tolerance)
	}
	return nil
}

// parseHeader splits a relm-signature value into its timestamp (decimal digits, as sent,
// since the signature covers that text) and its decoded v1 signatures. Entries of other
// schemes are ignored so that new ones can be added.
func parseHeader(header string) (ts string, sigs [][]byte, err error) {
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: entry %q is not key=value", ErrMalformedHeader, clip(part))
		}
		switch key {
		case "t":
			if seenT {
				return "", nil, fmt.Errorf("%w: more than one t= entry", ErrMalformedHeader)
			}
			if !isDigits(value) || len(value) > 18 {
				return "", nil, fmt.Errorf("%w: t=%q is not a Unix time in seconds", ErrMalformedHeader, clip(value))
			}
			ts, seenT = value, true
		case "v1":
			sig, err := hex.DecodeString(value)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1=%q is not 64 hex digits", ErrMalformedHeader, clip(value))
			}
			sigs = append(sigs, sig)
		}
	}
	if !seenT {
		return "", nil, fmt.Errorf("%w: no t= entry", ErrMalformedHeader)
	}
	if len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: no v1= entry", ErrMalformedHeader)
	}
	return ts, sigs, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
