package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadCursor means a pagination cursor was not one this server issued for that list.
var ErrBadCursor = errors.New("store: malformed cursor")

// Cursor is a keyset position: the (created_at, id) of the last record of a page.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Page is one page of a newest-first list.
type Page[T any] struct {
	Items      []T
	HasMore    bool
	NextCursor string // empty when there is no next page
}

// EncodeCursor makes the opaque token for the position after c in a list of kind.
func EncodeCursor(kind string, c Cursor) string {
	raw := kind + "|" + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a token from EncodeCursor for a list of kind.
func DecodeCursor(kind, token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != kind || parts[2] == "" || len(parts[2]) > 64 {
		return Cursor{}, ErrBadCursor
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || micros < 0 {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: parts[2]}, nil
}

// ClampLimit applies the list defaults: 50 when unset, at most 200.
func ClampLimit(limit int) int {
	switch {
	case limit <= 0:
		return 50
	case limit > 200:
		return 200
	}
	return limit
}

// paginate trims the extra row fetched to detect a next page and builds the cursor.
func paginate[T any](kind string, rows []T, limit int, key func(T) Cursor) Page[T] {
	p := Page[T]{Items: rows}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.HasMore = true
		p.NextCursor = EncodeCursor(kind, key(p.Items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
