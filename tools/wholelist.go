package tools

import "context"

// WholeListPage pages the lists that are read whole rather than page by page from the
// database (pipelines, stages, custom fields, API keys, email domains): they take the same
// limit and cursor as every list, so one paginating client works on all of them.
type WholeListPage struct {
	Limit  int    `json:"limit,omitempty" minimum:"1" doc:"Page size, 1 to 200 (default 200, which holds the whole list unless it is very long; larger values are treated as 200)."`
	Cursor string `json:"cursor,omitempty" doc:"The previous page's next_cursor, to continue the list with the same other arguments (limit may change)."`
}

// wholeListMax is the default and largest page of a whole list.
const wholeListMax = 200

// pageWhole cuts the page the list call of ctx asks for out of items, the whole list in
// its order: after the item the cursor names (by keyOf) or, when that item is gone, from
// the place it had; at most Limit items, and no more than fit in pageBytes(ctx) (fitPage).
// A cursor holds the place where the next page starts and the key of the item before it.
func pageWhole[T any](ctx context.Context, p WholeListPage, items []T, keyOf func(T) string) (data []T, hasMore bool, next *string, err error) {
	start := 0
	if p.Cursor != "" {
		place, key, err := openCursor(ctx, p.Cursor)
		if err != nil {
			return nil, false, nil, err
		}
		start = int(min(place, uint64(len(items))))
		for i, it := range items {
			if keyOf(it) == key {
				start = i + 1
				break
			}
		}
	}
	limit := p.Limit
	if limit <= 0 || limit > wholeListMax {
		limit = wholeListMax
	}
	end := min(start+limit, len(items))
	data = items[start:end:end]
	if n := fitPage(ctx, data); n < len(data) {
		data, end = data[:n], start+n
	}
	if end < len(items) {
		c, err := sealCursor(ctx, uint64(end), keyOf(items[end-1]))
		if err != nil {
			return nil, false, nil, err
		}
		hasMore, next = true, &c
	}
	if data == nil {
		data = []T{}
	}
	return data, hasMore, next, nil
}
