package store

import "time"

// Cursor is a keyset position: the (created_at, id) of the last record of a page. The
// tools layer seals it into the opaque next_cursor callers see.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Page is one page of a newest-first list.
type Page[T any] struct {
	Items   []T
	HasMore bool
	Next    *Cursor // the position of the page's last item when HasMore, else nil
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

// paginate trims the extra row fetched to detect a next page and notes where it starts.
func paginate[T any](rows []T, limit int, key func(T) Cursor) Page[T] {
	p := Page[T]{Items: rows}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.HasMore = true
		next := key(p.Items[limit-1])
		p.Next = &next
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
