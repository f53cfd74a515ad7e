package secrets

import (
	"encoding/base64"
	"strings"
)

// A sealed value is four fields joined by dots:
//
//	v1.<key id>.<base64url(nonce | wrapped data key | tag)>.<base64url(nonce | ciphertext | tag)>
//
// The key id is 16 lowercase hex characters naming the key-encryption key; base64url has no
// padding. Both encryptions are AES-256-GCM with a random 96-bit nonce and, as associated data,
// the header "v1.<key id>." followed by the binding.
const (
	formatVersion = "v1"
	gcmOverhead   = 12 + 16 // nonce and tag
	wrappedLen    = gcmOverhead + dekBytes
)

// maxSealedLen is the length of the sealed value of a MaxPlaintextBytes plaintext: anything
// longer is refused before it is decoded.
var maxSealedLen = len(sealedHeader(strings.Repeat("0", 2*kidBytes))) +
	base64.RawURLEncoding.EncodedLen(wrappedLen) + 1 + base64.RawURLEncoding.EncodedLen(gcmOverhead+MaxPlaintextBytes)

// sealedHeader is what a value sealed under the key kid starts with, also the start of the
// associated data of its encryptions.
func sealedHeader(kid string) string { return formatVersion + "." + kid + "." }

// sealedValue is a sealed value taken apart, not yet authenticated.
type sealedValue struct {
	kid        string
	wrapped    []byte // nonce | wrapped data key | tag
	ciphertext []byte // nonce | ciphertext | tag
}

// parse takes a sealed value apart, refusing (ErrMalformed) anything Seal cannot have made
// apart from the bytes that only authentication checks.
func parse(s string) (sealedValue, error) {
	if len(s) > maxSealedLen {
		return sealedValue{}, ErrMalformed
	}
	f := strings.SplitN(s, ".", 5)
	if len(f) != 4 || f[0] != formatVersion || !validKeyID(f[1]) {
		return sealedValue{}, ErrMalformed
	}
	wrapped, ok := decode(f[2])
	if !ok || len(wrapped) != wrappedLen {
		return sealedValue{}, ErrMalformed
	}
	ciphertext, ok := decode(f[3])
	if !ok || len(ciphertext) < gcmOverhead {
		return sealedValue{}, ErrMalformed
	}
	return sealedValue{kid: f[1], wrapped: wrapped, ciphertext: ciphertext}, nil
}

// decode reads unpadded base64url, refusing the newlines and non-zero trailing bits the
// decoder would otherwise let through, so that each value has one spelling.
func decode(s string) ([]byte, bool) {
	if strings.ContainsFunc(s, notBase64URL) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// validKeyID reports whether s is spelled as a key id: 16 lowercase hex characters.
func validKeyID(s string) bool {
	if len(s) != 2*kidBytes {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// notBase64URL reports whether r is outside the unpadded base64url alphabet.
func notBase64URL(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}
