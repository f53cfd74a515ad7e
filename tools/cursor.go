package tools

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/relmcrm/relm/auth"
)

// MinSecretKeyBytes is the shortest server secret accepted.
const MinSecretKeyBytes = 32

// MaxCursorLen is the longest cursor accepted, in characters; the cursors the server
// issues are much shorter.
const MaxCursorLen = 512

// cursorKeyInfo names the purpose of the key derived from the server secret for cursors
// (HKDF info): other features derive keys of their own under other names.
const cursorKeyInfo = "relm/v1/list-cursor-hmac"

// A cursor is base64url (no padding) of: version (1 byte) | sort key (8 bytes, big endian)
// | id (1 to 64 bytes of UTF-8) | tag (16 bytes). The tag is HMAC-SHA256, truncated to 128
// bits, over the version, the list call's scope digest (see withCursorScope) and the
// position, so a cursor opens only for the list call, caller and arguments it came from.
const (
	cursorVersion = 1
	cursorSortLen = 8
	cursorMaxID   = 64
	cursorTagLen  = 16
)

// Cursors turns the positions of list pages into the opaque, authenticated next_cursor
// values callers see, and back, under a key derived from the server secret.
type Cursors struct{ key []byte }

// NewCursors derives the cursor key from the server secret, which must hold at least
// MinSecretKeyBytes random bytes.
func NewCursors(secret []byte) (*Cursors, error) {
	if len(secret) < MinSecretKeyBytes {
		return nil, fmt.Errorf("tools: the server secret has %d bytes; it needs at least %d random bytes", len(secret), MinSecretKeyBytes)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, cursorKeyInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("tools: derive the cursor key: %w", err)
	}
	return &Cursors{key: key}, nil
}

// EnableCursors lets the registry's lists page, with cursors keyed by the server secret.
// Without it a list call fails as a misconfiguration (internal_error).
func (r *Registry) EnableCursors(secret []byte) error {
	c, err := NewCursors(secret)
	if err == nil {
		r.cursors = c
	}
	return err
}

// cursorScope is what the cursors of one list call are bound to. Its digest is computed
// when a cursor is first made or opened: most list calls do neither.
type cursorScope struct {
	cursors *Cursors
	prefix  string         // workspace, mode and list, NUL-terminated
	args    map[string]any // the arguments other than cursor, limit and fields
	once    sync.Once
	digest  [sha256.Size]byte
	err     error
}

type cursorScopeKey struct{}

// withCursorScope binds the cursors made and accepted under ctx to the caller's workspace
// and mode, the list capability and its arguments other than cursor, limit and fields (in
// canonical JSON: the same filter spelled alike on REST and MCP gives the same digest).
// Without a caller or enabled cursors it binds nothing, and the list fails.
func (r *Registry) withCursorScope(ctx context.Context, list string, args map[string]any) context.Context {
	c, ok := auth.CallerFrom(ctx)
	if !ok || r.cursors == nil {
		return ctx
	}
	rest := maps.Clone(args)
	delete(rest, "cursor")
	delete(rest, "limit")
	delete(rest, FieldsArg)
	// Workspace ids, modes and tool names never contain NUL, so the fields cannot run together.
	s := &cursorScope{cursors: r.cursors, prefix: c.WorkspaceID + "\x00" + string(c.Mode) + "\x00" + list + "\x00", args: rest}
	return context.WithValue(ctx, cursorScopeKey{}, s)
}

func scopeOf(ctx context.Context) (*cursorScope, error) {
	s, ok := ctx.Value(cursorScopeKey{}).(*cursorScope)
	if !ok {
		return nil, errors.New("tools: a list ran without a cursor scope (no caller, or cursors not enabled)")
	}
	s.once.Do(func() {
		canon, err := canonicalJSON(s.args)
		if err != nil {
			s.err = err
			return
		}
		h := sha256.New()
		h.Write([]byte(s.prefix))
		h.Write(canon)
		h.Sum(s.digest[:0])
	})
	return s, s.err
}

// tag authenticates the version and position of a cursor of this scope.
func (s *cursorScope) tag(body []byte) []byte {
	m := hmac.New(sha256.New, s.cursors.key)
	m.Write(body[:1])
	m.Write(s.digest[:])
	m.Write(body[1:])
	return m.Sum(nil)[:cursorTagLen]
}

// sealCursor makes the cursor for the position (sortKey, id) of the list call of ctx.
func sealCursor(ctx context.Context, sortKey uint64, id string) (string, error) {
	s, err := scopeOf(ctx)
	if err != nil {
		return "", err
	}
	if !validCursorID(id) {
		return "", fmt.Errorf("tools: cannot make a cursor for id %q", id)
	}
	body := make([]byte, 0, 1+cursorSortLen+len(id)+cursorTagLen)
	body = append(body, cursorVersion)
	body = binary.BigEndian.AppendUint64(body, sortKey)
	body = append(body, id...)
	body = append(body, s.tag(body)...)
	return base64.RawURLEncoding.EncodeToString(body), nil
}

// openCursor returns the position a cursor holds, or invalid_cursor when the list call of
// ctx did not issue it: tampered, truncated, padded or not base64url, too long, or made for
// another workspace, mode, list or arguments, or under another server secret.
func openCursor(ctx context.Context, token string) (sortKey uint64, id string, err error) {
	s, err := scopeOf(ctx)
	if err != nil {
		return 0, "", err
	}
	if len(token) > MaxCursorLen || strings.ContainsFunc(token, notBase64URL) {
		return 0, "", invalidCursor()
	}
	body, derr := base64.RawURLEncoding.Strict().DecodeString(token)
	if derr != nil || len(body) < 1+cursorSortLen+1+cursorTagLen || len(body) > 1+cursorSortLen+cursorMaxID+cursorTagLen ||
		body[0] != cursorVersion {
		return 0, "", invalidCursor()
	}
	signed, tag := body[:len(body)-cursorTagLen], body[len(body)-cursorTagLen:]
	if !hmac.Equal(tag, s.tag(signed)) {
		return 0, "", invalidCursor()
	}
	id = string(signed[1+cursorSortLen:])
	if !validCursorID(id) { // never issued; checked all the same before it reaches SQL
		return 0, "", invalidCursor()
	}
	return binary.BigEndian.Uint64(signed[1 : 1+cursorSortLen]), id, nil
}

// notBase64URL reports whether r is outside the unpadded base64url alphabet (the decoder
// would skip newlines, giving one cursor many spellings).
func notBase64URL(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// validCursorID reports whether id can be a record id in a cursor: 1 to 64 bytes of UTF-8
// without control characters (PostgreSQL text cannot hold NUL).
func validCursorID(id string) bool {
	return id != "" && len(id) <= cursorMaxID && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

// invalidCursor is the error for any cursor the list call did not issue.
func invalidCursor() *Error {
	e := NewError(CodeInvalidCursor, "The cursor is not valid for this list. Pass the next_cursor of the previous page unchanged, "+
		"with the same filters and other arguments as that request (only limit and fields may change), or omit cursor to start from the first page.")
	e.Param = "cursor"
	return e
}
