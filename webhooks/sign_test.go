package webhooks_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

// A fixed vector, computed independently (Python's hmac module).
const (
	vecSecret = "whsec_dGVzdC1zZWNyZXQtZm9yLXJlbG0td2ViaG9va3MtMzJieXQ"
	vecOld    = "whsec_old"
	vecBody   = `{"id":"evt_1","type":"contact.created"}`
	vecUnix   = 1767225600 // 2026-01-01T00:00:00Z
	vecV1     = "838f25414cedde38327c22e5a2d27bde5cad674d1588ee1e524ded83d7c7b56e"
	vecV1Old  = "d82cdf0ca0aeccc07f2dda691d49b1ae589083af2311c134269815090fdcf2e4"
)

var vecTime = time.Unix(vecUnix, 0)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	if a == b {
		t.Fatalf("two secrets are equal: %s", a)
	}
	for _, s := range []string{a, b} {
		rest, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			t.Fatalf("secret %q lacks the whsec_ prefix", s)
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q is not unpadded base64url of 32 bytes (%d bytes, %v)", s, len(raw), err)
		}
	}
}

func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	got := webhooks.Sign([]byte(vecBody), vecTime, vecSecret)
	if want := "t=1767225600,v1=" + vecV1; got != want {
		t.Fatalf("Sign = %s\nwant   %s", got, want)
	}
	got = webhooks.Sign([]byte(vecBody), vecTime, vecSecret, vecOld)
	if want := "t=1767225600,v1=" + vecV1 + ",v1=" + vecV1Old; got != want {
		t.Fatalf("Sign with two secrets = %s\nwant   %s (newest first)", got, want)
	}
	if got := webhooks.Sign([]byte(vecBody), vecTime.Add(999*time.Millisecond)); got != "t=1767225600" {
		t.Fatalf("Sign truncates to whole seconds and adds no v1 without a secret: got %s", got)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(vecBody)
	one := "t=1767225600,v1=" + vecV1
	two := "t=1767225600,v1=" + vecV1 + ",v1=" + vecV1Old
	tests := []struct {
		name      string
		header    string
		body      []byte
		secret    string
		tolerance time.Duration
		now       time.Time
		want      error // nil, or the sentinel the error wraps
	}{
		{"valid", one, body, vecSecret, 0, vecTime, nil},
		{"newest of two", two, body, vecSecret, 0, vecTime, nil},
		{"rotated-out of two", two, body, vecOld, 0, vecTime, nil},
		{"old secret, one entry", one, body, vecOld, 0, vecTime, webhooks.ErrNoMatch},
		{"wrong secret", two, body, "whsec_other", 0, vecTime, webhooks.ErrNoMatch},
		{"body changed", one, []byte(vecBody + " "), vecSecret, 0, vecTime, webhooks.ErrNoMatch},
		{"timestamp changed", "t=1767225601,v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrNoMatch},
		{"spaces after commas", "t=1767225600, v1=" + vecV1Old + ", v1=" + vecV1, body, vecSecret, 0, vecTime, nil},
		{"unknown schemes ignored", "t=1767225600,v0=abc,v1=" + vecV1 + ",v2=zz", body, vecSecret, 0, vecTime, nil},
		{"upper-case hex", "t=1767225600,v1=" + strings.ToUpper(vecV1), body, vecSecret, 0, vecTime, nil},
		{"4m59s old", one, body, vecSecret, 0, vecTime.Add(4*time.Minute + 59*time.Second), nil},
		{"5m old", one, body, vecSecret, 0, vecTime.Add(5 * time.Minute), nil},
		{"5m01s old", one, body, vecSecret, 0, vecTime.Add(5*time.Minute + time.Second), webhooks.ErrOutsideTolerance},
		{"5m01s ahead", one, body, vecSecret, 0, vecTime.Add(-5*time.Minute - time.Second), webhooks.ErrOutsideTolerance},
		{"custom tolerance", one, body, vecSecret, time.Hour, vecTime.Add(59 * time.Minute), nil},
		{"custom tolerance exceeded", one, body, vecSecret, time.Second, vecTime.Add(2 * time.Second), webhooks.ErrOutsideTolerance},
		{"stale and wrong secret", one, body, vecOld, 0, vecTime.Add(time.Hour), webhooks.ErrNoMatch},
		{"missing", "", body, vecSecret, 0, vecTime, webhooks.ErrNoSignature},
		{"blank", "  ", body, vecSecret, 0, vecTime, webhooks.ErrNoSignature},
		{"no t", "v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"no v1", "t=1767225600", body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"two t", "t=1767225600,t=1767225600,v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"t not a number", "t=soon,v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"negative t", "t=-1,v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"huge t", "t=99999999999999999999,v1=" + vecV1, body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"v1 not hex", "t=1767225600,v1=" + strings.Repeat("g", 64), body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"v1 short", "t=1767225600,v1=" + vecV1[:62], body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"entry without =", "t=1767225600,v1", body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
		{"Stripe-style header", "t=1767225600,v1=" + vecV1 + ";", body, vecSecret, 0, vecTime, webhooks.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhooks.Verify(tt.header, tt.body, tt.secret, tt.tolerance, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify refused a valid signature: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want one wrapping %q", err, tt.want)
			}
		})
	}
}

func TestVerifyRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	header := webhooks.Sign([]byte(vecBody), vecTime, "")
	if err := webhooks.Verify(header, []byte(vecBody), "", 0, vecTime); err == nil {
		t.Fatal("Verify accepted an empty secret, which anyone can sign with")
	}
}

// FuzzVerify checks that Verify never panics on a hostile header and that what Sign
// produces always verifies.
func FuzzVerify(f *testing.F) {
	f.Add("t=1767225600,v1="+vecV1, []byte(vecBody), vecSecret)
	f.Add("t=,v1=,=,,", []byte{}, "x")
	f.Add("t=1,t=2", []byte("\x00\xff"), "whsec_")
	f.Fuzz(func(t *testing.T, header string, body []byte, secret string) {
		_ = webhooks.Verify(header, body, secret, 0, vecTime)
		if secret == "" {
			return
		}
		signed := webhooks.Sign(body, vecTime, secret, "whsec_other")
		if err := webhooks.Verify(signed, body, secret, 0, vecTime); err != nil {
			t.Fatalf("Verify(Sign(...)) = %v", err)
		}
	})
}
