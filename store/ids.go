package store

import (
	"crypto/rand"
	"strings"
)

// NewID returns prefix followed by 26 random characters of a-z and 2-7 (lowercase base32,
// at least 128 random bits), URL-safe.
func NewID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}
