package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// plaintext is a credential distinctive enough to spot wherever it leaks.
const plaintext = "re_live_7Hq2ZxPLAINTEXTMARKERv9"

const binding = "email_integration/ws_01J0ABCDEF/live"

// secret returns a server secret of 32 bytes, different for each seed.
func secret(seed byte) []byte { return bytes.Repeat([]byte{seed}, MinSecretBytes) }

func newBox(t testing.TB, current []byte, old ...[]byte) *Box {
	t.Helper()
	b, err := NewBox(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seal(t testing.TB, b *Box, p, binding string) string {
	t.Helper()
	s, err := b.Seal([]byte(p), binding)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var sealedRe = regexp.MustCompile(`^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{80}\.[A-Za-z0-9_-]{38,}$`)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	for _, p := range [][]byte{{}, []byte("x"), []byte(plaintext), {0, 0xff, '.', '\n'}, bytes.Repeat([]byte("k"), MaxPlaintextBytes)} {
		s, err := b.Seal(p, binding)
		if err != nil {
			t.Fatal(err)
		}
		if !sealedRe.MatchString(s) {
			t.Fatalf("sealed value %.120q is not v1.<kid>.<base64url>.<base64url>", s)
		}
		got, err := b.Open(s, binding)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v", len(p), len(got), err)
		}
		if b.NeedsRewrap(s) {
			t.Fatal("a value sealed under the current key needs no rewrap")
		}
	}
	if _, err := b.Seal(make([]byte, MaxPlaintextBytes+1), binding); err == nil {
		t.Fatal("Seal took more than MaxPlaintextBytes")
	}
}

// TestSealIsFresh: each seal draws its own data key and nonces, so equal credentials do not
// show as equal values.
func TestSealIsFresh(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	f1 := strings.Split(seal(t, b, plaintext, binding), ".")
	f2 := strings.Split(seal(t, b, plaintext, binding), ".")
	if f1[1] != f2[1] {
		t.Fatal("two seals under one box name different keys")
	}
	if f1[2] == f2[2] || f1[3] == f2[3] {
		t.Fatalf("two seals of the same plaintext share a part:\n%v\n%v", f1, f2)
	}
}

// TestEveryBitFlipIsTampered flips each bit of the encrypted parts of a sealed value (the
// wrapped data key and the ciphertext, nonces and tags included): none opens.
func TestEveryBitFlipIsTampered(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	f := strings.Split(seal(t, b, plaintext, binding), ".")
	for part := 2; part <= 3; part++ {
		raw, err := base64.RawURLEncoding.DecodeString(f[part])
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			for bit := range 8 {
				raw[i] ^= 1 << bit
				g := append([]string(nil), f...)
				g[part] = base64.RawURLEncoding.EncodeToString(raw)
				raw[i] ^= 1 << bit
				if _, err := b.Open(strings.Join(g, "."), binding); !errors.Is(err, ErrTampered) {
					t.Fatalf("part %d, byte %d, bit %d flipped: err = %v, want ErrTampered", part, i, bit, err)
				}
			}
		}
	}
}

// TestEveryCharacterChangeFails replaces each character of a sealed value with each other
// byte: none opens, each fails with the error its place calls for, and no error shows the
// plaintext.
func TestEveryCharacterChangeFails(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	s := seal(t, b, plaintext, binding)
	dot2 := len("v1.") + 16
	dot3 := strings.LastIndexByte(s, '.')
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(s) {
		for c := range 256 {
			if byte(c) == s[i] {
				continue
			}
			changed := s[:i] + string([]byte{byte(c)}) + s[i+1:]
			_, err := b.Open(changed, binding)
			var want error
			switch {
			case i < len("v1.") || i == dot2 || i == dot3:
				want = ErrMalformed
			case i < dot2:
				want = ErrMalformed
				if strings.IndexByte("0123456789abcdef", byte(c)) >= 0 {
					want = ErrUnknownKey
				}
			case strings.IndexByte(alphabet, byte(c)) < 0:
				want = ErrMalformed
			case i == len(s)-1 && !errors.Is(err, ErrTampered):
				want = ErrMalformed // the last character may carry bits that must be zero
			default:
				want = ErrTampered
			}
			if !errors.Is(err, want) {
				t.Fatalf("character %d changed to %q: err = %v, want %v", i, byte(c), err, want)
			}
			if strings.Contains(err.Error(), plaintext) {
				t.Fatalf("the error shows the plaintext: %v", err)
			}
		}
	}
}

// TestTruncatedOrExtendedFails: no prefix of a sealed value opens, nor the value with
// anything added, newlines included.
func TestTruncatedOrExtendedFails(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	s := seal(t, b, plaintext, binding)
	for i := range len(s) {
		if _, err := b.Open(s[:i], binding); err == nil {
			t.Fatalf("the first %d characters open", i)
		}
	}
	for _, changed := range []string{s + "A", s + ".", s + "\n", " " + s, s[:40] + "\n" + s[40:], s[:len(s)-2] + "\r\n" + s[len(s)-2:]} {
		if _, err := b.Open(changed, binding); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTampered) {
			t.Fatalf("Open(%q) = %v, want ErrMalformed or ErrTampered", changed, err)
		}
	}
}

// TestWrongBindingFails: a value copied to another workspace, mode or purpose does not open
// there.
func TestWrongBindingFails(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	s := seal(t, b, plaintext, binding)
	for _, other := range []string{
		"email_integration/ws_01J0ABCDEF/test",
		"email_integration/ws_01J0ABCDEG/live",
		"webhook_secret/ws_01J0ABCDEF/live",
		"email_integration/ws_01J0ABCDEF/liv",
		binding + "/",
		binding + "\x00",
	} {
		if _, err := b.Open(s, other); !errors.Is(err, ErrTampered) {
			t.Fatalf("opened for %q: err = %v, want ErrTampered", other, err)
		}
		if _, err := b.Rewrap(s, other); !errors.Is(err, ErrTampered) {
			t.Fatalf("rewrapped for %q: err = %v, want ErrTampered", other, err)
		}
	}
	if _, err := b.Seal([]byte(plaintext), ""); err == nil {
		t.Fatal("Seal took an empty binding")
	}
	if _, err := b.Open(s, ""); err == nil {
		t.Fatal("Open took an empty binding")
	}
}

// TestBindingCoversTheDataKey: the wrapped data key is bound too, so one taken from a value
// of another binding does not open, even beside a ciphertext made for this binding.
func TestBindingCoversTheDataKey(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	const other = "email_integration/ws_01J0ABCDEF/test"
	v, err := parse(seal(t, b, plaintext, binding))
	if err != nil {
		t.Fatal(err)
	}
	dek, err := b.keks[v.kid].Open(nil, nil, v.wrapped, []byte(sealedHeader(v.kid)+binding))
	if err != nil {
		t.Fatal(err)
	}
	data, err := newAEAD(dek)
	if err != nil {
		t.Fatal(err)
	}
	forged := sealedHeader(v.kid) + base64.RawURLEncoding.EncodeToString(v.wrapped) + "." +
		base64.RawURLEncoding.EncodeToString(data.Seal(nil, nil, []byte(plaintext), []byte(sealedHeader(v.kid)+other)))
	if _, err := b.Open(forged, other); !errors.Is(err, ErrTampered) {
		t.Fatalf("a data key wrapped for %q opened for %q: err = %v", binding, other, err)
	}
}

// TestOtherSecretIsUnknownKey: a value sealed by a server with another secret names a key
// this one does not have.
func TestOtherSecretIsUnknownKey(t *testing.T) {
	t.Parallel()
	s := seal(t, newBox(t, secret(2)), plaintext, binding)
	_, err := newBox(t, secret(1)).Open(s, binding)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), "RELM_SECRET_KEY_OLD") || !strings.Contains(err.Error(), strings.Split(s, ".")[1]) {
		t.Fatalf("the error should name RELM_SECRET_KEY_OLD and the key id: %v", err)
	}
}

// TestRotation follows a rotation: values sealed under the old secret open beside the new
// one, need a rewrap, and once rewrapped open under the new secret alone.
func TestRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := secret(1), secret(2)
	s := seal(t, newBox(t, oldSecret), plaintext, binding)

	rotated := newBox(t, newSecret, secret(3), oldSecret)
	if got, err := rotated.Open(s, binding); err != nil || string(got) != plaintext {
		t.Fatalf("Open under the old secret = %q, %v", got, err)
	}
	if !rotated.NeedsRewrap(s) {
		t.Fatal("a value under the old secret should need a rewrap")
	}
	r, err := rotated.Rewrap(s, binding)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.NeedsRewrap(r) {
		t.Fatal("a rewrapped value should need no rewrap")
	}
	if got, err := newBox(t, newSecret).Open(r, binding); err != nil || string(got) != plaintext {
		t.Fatalf("the rewrapped value under the new secret alone = %q, %v", got, err)
	}
	if _, err := newBox(t, oldSecret).Open(r, binding); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("the rewrapped value under the old secret: err = %v, want ErrUnknownKey", err)
	}
	if !rotated.NeedsRewrap("not sealed") {
		t.Fatal("a malformed value should be passed to Rewrap, which says what is wrong")
	}
	if _, err := rotated.Rewrap("not sealed", binding); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Rewrap(malformed): err = %v, want ErrMalformed", err)
	}
	// An old secret equal to the current one changes nothing.
	same := newBox(t, newSecret, newSecret)
	if same.NeedsRewrap(r) {
		t.Fatal("the current secret listed again as old made its values need a rewrap")
	}
}

// TestPlaintextNeverShows: neither the sealed value nor any error holds the plaintext, in
// the clear or in base64.
func TestPlaintextNeverShows(t *testing.T) {
	t.Parallel()
	b := newBox(t, secret(1))
	s := seal(t, b, plaintext, binding)
	for _, enc := range []string{plaintext, base64.RawURLEncoding.EncodeToString([]byte(plaintext)),
		base64.StdEncoding.EncodeToString([]byte(plaintext)), base64.RawStdEncoding.EncodeToString([]byte(plaintext))} {
		if strings.Contains(s, enc[:len(enc)-4]) {
			t.Fatalf("the sealed value shows the plaintext (%q)", enc)
		}
	}
	f := strings.Split(s, ".")
	_, tampered := b.Open(f[0]+"."+f[1]+"."+f[2]+"."+"A"+f[3][1:], binding)
	_, wrongBinding := b.Open(s, "other")
	_, unknown := newBox(t, secret(2)).Open(s, binding)
	_, tooLong := b.Seal([]byte(strings.Repeat(plaintext, MaxPlaintextBytes/len(plaintext)+1)), binding)
	_, noKey := Unavailable("test").Seal([]byte(plaintext), binding)
	_, noBinding := b.Seal([]byte(plaintext), "")
	for _, err := range []error{tampered, wrongBinding, unknown, tooLong, noKey, noBinding} {
		if err == nil {
			t.Fatal("an operation meant to fail succeeded")
		}
		if strings.Contains(err.Error(), plaintext) || strings.Contains(err.Error(), binding) {
			t.Fatalf("the error shows the plaintext or the binding: %v", err)
		}
	}
}

// TestUnavailable: a box without a lasting secret, or a nil one, refuses everything with
// ErrNoKey and says how to fix it.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	s := seal(t, newBox(t, secret(1)), plaintext, binding)
	for name, b := range map[string]*Box{"Unavailable": Unavailable("the key is made anew at each start"), "nil": nil} {
		if b.Available() {
			t.Fatalf("%s: Available() = true", name)
		}
		_, err := b.Seal([]byte(plaintext), binding)
		if !errors.Is(err, ErrNoKey) {
			t.Fatalf("%s: Seal err = %v, want ErrNoKey", name, err)
		}
		for _, hint := range []string{"RELM_SECRET_KEY", "openssl rand -base64 32", "every server process"} {
			if !strings.Contains(err.Error(), hint) {
				t.Fatalf("%s: the error %q lacks %q", name, err, hint)
			}
		}
		if name == "Unavailable" && !strings.Contains(err.Error(), "made anew at each start") {
			t.Fatalf("the error %q lacks the reason", err)
		}
		if _, err := b.Open(s, binding); !errors.Is(err, ErrNoKey) {
			t.Fatalf("%s: Open err = %v, want ErrNoKey", name, err)
		}
		if _, err := b.Rewrap(s, binding); !errors.Is(err, ErrNoKey) {
			t.Fatalf("%s: Rewrap err = %v, want ErrNoKey", name, err)
		}
		if b.NeedsRewrap(s) {
			t.Fatalf("%s: NeedsRewrap = true", name)
		}
	}
	if !newBox(t, secret(1)).Available() {
		t.Fatal("NewBox made an unavailable box")
	}
}

func TestNewBoxRefusesShortSecrets(t *testing.T) {
	t.Parallel()
	short := make([]byte, MinSecretBytes-1)
	if _, err := NewBox(short); err == nil {
		t.Fatal("NewBox took a short current secret")
	}
	if _, err := NewBox(secret(1), secret(2), short); err == nil || !strings.Contains(err.Error(), "#2") {
		t.Fatalf("NewBox with a short old secret: err = %v, want one naming old secret #2", err)
	}
	if _, err := NewBox(nil); err == nil {
		t.Fatal("NewBox took no secret")
	}
}

// FuzzOpen: Open and NeedsRewrap never panic, and nothing opens but what Seal made.
func FuzzOpen(f *testing.F) {
	b := newBox(f, secret(1), secret(2))
	for _, s := range []string{seal(f, newBox(f, secret(2)), plaintext, binding), seal(f, b, plaintext, binding), seal(f, b, "", binding)} {
		f.Add(s)
		f.Add(s[:len(s)-1])
		f.Add(strings.Replace(s, "v1", "v2", 1))
	}
	f.Add("")
	f.Add("v1....")
	f.Add("v1.0000000000000000..")
	f.Fuzz(func(t *testing.T, s string) {
		b.NeedsRewrap(s)
		got, err := b.Open(s, binding)
		if err == nil {
			// Each fuzzing process seals anew, so the seeds it opens are not known here; what
			// opens must at least be spelled as Seal spells and hold a plaintext the test sealed.
			if !sealedRe.MatchString(s) || (string(got) != plaintext && len(got) != 0) {
				t.Fatalf("%q opened to %q", s, got)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("Open(%q) = %v, want a typed error", s, err)
		}
		if got != nil {
			t.Fatalf("Open(%q) failed but returned %d bytes", s, len(got))
		}
	})
}
