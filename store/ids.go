package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// NewID returns prefix followed by 26 random characters of a-z and 2-7 (lowercase base32,
// at least 128 random bits), URL-safe.
func NewID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

// sortedBase32 is base32 in the characters of NewID's ids, in ASCII order (digits first), so
// that ids made of it compare as the numbers they encode, in PostgreSQL's collations too.
var sortedBase32 = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// NewTimeID returns an id of NewID's format that encodes the current time in milliseconds
// (48 bits, the first 10 characters) and then 80 random bits. Ids made in a later
// millisecond sort after earlier ones, so a table keyed by them takes each new row at the
// end of its index instead of on a random page: for append-only tables that grow by every
// request (request logs).
func NewTimeID(prefix string) string {
	return newTimeID(prefix, time.Now())
}

func newTimeID(prefix string, now time.Time) string {
	var b [16]byte // 48 bits of milliseconds, then 80 random bits
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:16])
	return prefix + sortedBase32.EncodeToString(b[:])[:26]
}
