package server

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/relmcrm/relm/tools"
)

// SecretKeyBytes is the size of a server secret made by NewSecretKey.
const SecretKeyBytes = 32

// NewSecretKey returns a new random server secret (Config.SecretKey).
func NewSecretKey() []byte {
	k := make([]byte, SecretKeyBytes)
	rand.Read(k) // never fails
	return k
}

// EncodeSecretKey spells a server secret the way ParseSecretKey reads it: standard base64.
func EncodeSecretKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// ParseSecretKey reads a server secret given as base64 (standard or URL alphabet, padded
// or not) of at least 32 random bytes, such as the output of `openssl rand -base64 32`.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		k, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(k) < tools.MinSecretKeyBytes {
			return nil, fmt.Errorf("the secret key decodes to %d bytes; it must be base64 of at least %d random bytes "+
				"(make one with `openssl rand -base64 32`)", len(k), tools.MinSecretKeyBytes)
		}
		return k, nil
	}
	return nil, fmt.Errorf("the secret key is not base64; it must be base64 of at least %d random bytes "+
		"(make one with `openssl rand -base64 32`)", tools.MinSecretKeyBytes)
}
