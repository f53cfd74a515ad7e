// Package secrets keeps the credentials a workspace gives Relm (an email provider's API key,
// a webhook signing secret) encrypted at rest: envelope encryption under keys derived from the
// server secret (RELM_SECRET_KEY), each value bound to where it belongs. See docs/secrets.md.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// MinSecretBytes is the shortest server secret a Box accepts.
const MinSecretBytes = 32

// MaxPlaintextBytes is the largest value Seal takes; credentials are far smaller.
const MaxPlaintextBytes = 64 << 10

// The purposes of the two keys derived from each server secret (HKDF info): the key-encryption
// key, and the key id that names it in sealed values without revealing it.
const (
	kekInfo = "relm/v1/secrets-kek"
	kidInfo = "relm/v1/secrets-kid"
)

const (
	kidBytes = 8  // a key id is the hex of this many bytes
	dekBytes = 32 // a data key is an AES-256 key
)

// Box seals and opens credentials under the server secret and, for values sealed before a
// rotation, the old ones. It is safe for concurrent use. A Box made by Unavailable, or a nil
// *Box, seals and opens nothing: every call fails with ErrNoKey.
type Box struct {
	current string                 // key id of the KEK that seals
	keks    map[string]cipher.AEAD // every KEK that opens, by key id
	noKey   error                  // non-nil: the box is unavailable, and this is why
}

// NewBox makes a Box that seals under a key derived from the current server secret and opens
// values sealed under it or under any of the old ones. Each secret needs at least
// MinSecretBytes random bytes.
func NewBox(current []byte, old ...[]byte) (*Box, error) {
	b := &Box{keks: make(map[string]cipher.AEAD, 1+len(old))}
	for i, secret := range append([][]byte{current}, old...) {
		kid, kek, err := deriveKEK(secret)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("secrets: the server secret: %w", err)
			}
			return nil, fmt.Errorf("secrets: old server secret #%d: %w", i, err)
		}
		if i == 0 {
			b.current = kid
		}
		if _, dup := b.keks[kid]; !dup { // an old secret equal to another is harmless
			b.keks[kid] = kek
		}
	}
	return b, nil
}

// Unavailable returns a Box that refuses to seal or open, with ErrNoKey and reason (why this
// server has no lasting secret), for a server whose secret does not survive a restart.
func Unavailable(reason string) *Box {
	err := ErrNoKey
	if reason != "" {
		err = fmt.Errorf("%w (%s)", ErrNoKey, reason)
	}
	return &Box{noKey: err}
}

// Available reports whether the box can seal and open, that is whether it is neither nil nor
// made by Unavailable.
func (b *Box) Available() bool { return b.unavailable() == nil }

func (b *Box) unavailable() error {
	if b == nil {
		return ErrNoKey
	}
	return b.noKey
}

// deriveKEK derives from a server secret its key-encryption key and the key's id.
func deriveKEK(secret []byte) (kid string, kek cipher.AEAD, err error) {
	if len(secret) < MinSecretBytes {
		return "", nil, fmt.Errorf("it has %d bytes; it needs at least %d random bytes", len(secret), MinSecretBytes)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, kekInfo, dekBytes)
	if err != nil {
		return "", nil, fmt.Errorf("derive the key-encryption key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, secret, nil, kidInfo, kidBytes)
	if err != nil {
		return "", nil, fmt.Errorf("derive the key id: %w", err)
	}
	kek, err = newAEAD(key)
	return hex.EncodeToString(id), kek, err
}

// newAEAD is AES-256-GCM under key, with a random 96-bit nonce put before each ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// Seal encrypts plaintext for binding, which names where the value belongs (for example
// "email_integration/<workspace_id>/<mode>"): Open gives it back only for the same binding.
// The result is printable ASCII, different at every call, and holds nothing of the plaintext.
func (b *Box) Seal(plaintext []byte, binding string) (string, error) {
	if err := b.unavailable(); err != nil {
		return "", err
	}
	if binding == "" {
		return "", errNoBinding
	}
	if len(plaintext) > MaxPlaintextBytes {
		return "", fmt.Errorf("secrets: the value has %d bytes; at most %d can be sealed", len(plaintext), MaxPlaintextBytes)
	}
	dek := make([]byte, dekBytes)
	rand.Read(dek) // never fails
	defer clear(dek)
	data, err := newAEAD(dek)
	if err != nil {
		return "", fmt.Errorf("secrets: %w", err)
	}
	header := sealedHeader(b.current)
	aad := []byte(header + binding)
	wrapped := b.keks[b.current].Seal(nil, nil, dek, aad)
	ciphertext := data.Seal(nil, nil, plaintext, aad)
	return header + base64.RawURLEncoding.EncodeToString(wrapped) + "." + base64.RawURLEncoding.EncodeToString(ciphertext), nil
}

// Open decrypts a value Seal made for the same binding, under the current server secret or an
// old one. It fails with ErrMalformed, ErrUnknownKey or ErrTampered (which include a wrong
// binding), or ErrNoKey when the box is unavailable.
func (b *Box) Open(sealed, binding string) ([]byte, error) {
	if err := b.unavailable(); err != nil {
		return nil, err
	}
	if binding == "" {
		return nil, errNoBinding
	}
	v, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	kek, ok := b.keks[v.kid]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, v.kid)
	}
	aad := []byte(sealedHeader(v.kid) + binding)
	dek, err := kek.Open(nil, nil, v.wrapped, aad)
	if err != nil {
		return nil, ErrTampered
	}
	defer clear(dek)
	data, err := newAEAD(dek)
	if err != nil {
		return nil, ErrTampered // authenticated, so never: a data key is always 32 bytes
	}
	plaintext, err := data.Open(nil, nil, v.ciphertext, aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plaintext, nil
}

// NeedsRewrap reports whether sealed is not a well-formed value under the current server
// secret, so that a rotation should pass it to Rewrap (which also reports what is wrong with
// a malformed one). An unavailable box rewraps nothing.
func (b *Box) NeedsRewrap(sealed string) bool {
	if !b.Available() {
		return false
	}
	v, err := parse(sealed)
	return err != nil || v.kid != b.current
}

// Rewrap opens sealed for binding under whichever of the box's secrets sealed it, and seals
// it again under the current one. It fails as Open does.
func (b *Box) Rewrap(sealed, binding string) (string, error) {
	plaintext, err := b.Open(sealed, binding)
	if err != nil {
		return "", err
	}
	defer clear(plaintext)
	return b.Seal(plaintext, binding)
}

// Errors of Seal, Open and Rewrap. None of them, nor any other error of this package, holds a
// plaintext, a key or a binding.
var (
	// ErrNoKey is the error of an unavailable box: the server has no secret that outlives it.
	ErrNoKey = errors.New("secrets: storing and reading credentials needs a server secret that survives restarts: " +
		"set RELM_SECRET_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) to the same value on every server process")
	// ErrUnknownKey is the error for a value sealed under a server secret the box does not have,
	// such as the one before a rotation.
	ErrUnknownKey = errors.New("secrets: the value was sealed under a server secret this server does not have: " +
		"set RELM_SECRET_KEY_OLD to that secret (with RELM_SECRET_KEY the current one) on every server process")
	// ErrTampered is the error for a value that fails authentication: altered, or sealed for
	// another binding (another workspace, mode or purpose).
	ErrTampered = errors.New("secrets: the value does not open: it was altered, or sealed for another workspace, mode or purpose")
	// ErrMalformed is the error for a string that is not a sealed value this server reads.
	ErrMalformed = errors.New("secrets: the value is not a sealed secret (v1.<key id>.<data key>.<ciphertext>)")

	errNoBinding = errors.New("secrets: a binding is required (where the value belongs, e.g. email_integration/<workspace_id>/<mode>)")
)
