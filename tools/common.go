package tools

import (
	"context"
	"encoding/json"
	"time"

	"github.com/relmcrm/relm/store"
)

// All returns every capability, in the order tools/list and the OpenAPI document show them.
func All(s *store.Store) []Tool {
	return concat(contactTools(s), companyTools(s), dealTools(s), pipelineTools(s), activityTools(s), customFieldTools(s), associationTools(s), searchTools(s), eventTools(s), undoTools(s), previewTools(s), duplicateTools(s), mergeTools(s), webhookTools(s), emailTools(s), automationTools(s), apiKeyTools(s), oauthGrantTools(s), sandboxTools(s), usageTools(s), chatgptTools(s))
}

func concat(lists ...[]Tool) []Tool {
	var all []Tool
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// List is one page of a newest-first list.
type List[T any] struct {
	Object     string  `json:"object" enum:"list" doc:"Always \"list\"."`
	Data       []T     `json:"data" doc:"The records of this page, newest first."`
	HasMore    bool    `json:"has_more" doc:"Whether another page follows."`
	NextCursor *string `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// shorthand turns a list tool's named filter arguments (email, stage, …) into an equality
// filter, leaving out the ones not given.
func shorthand(fields map[string]string) map[string]any {
	f := map[string]any{}
	for k, v := range fields {
		if v != "" {
			f[k] = v
		}
	}
	return f
}

// Deleted confirms a deletion.
type Deleted struct {
	ID      string `json:"id" doc:"Id of the deleted record."`
	Object  string `json:"object" doc:"Kind of the deleted record, such as \"contact\"."`
	Deleted bool   `json:"deleted" doc:"Always true."`
}

// Page describes pagination arguments shared by every list.
type Page struct {
	Limit  int    `json:"limit,omitempty" minimum:"1" doc:"Page size: default 50, at most 200 (larger counts as 200)."`
	Cursor string `json:"cursor,omitempty" doc:"The previous page's next_cursor, to continue the list with the same other arguments (limit may change)."`
}

// after opens the cursor of the list call of ctx: nil for the first page.
func (p Page) after(ctx context.Context) (*store.Cursor, error) {
	if p.Cursor == "" {
		return nil, nil
	}
	micros, id, err := openCursor(ctx, p.Cursor)
	if err != nil {
		return nil, err
	}
	return &store.Cursor{CreatedAt: time.UnixMicro(int64(micros)).UTC(), ID: id}, nil
}

// listOf converts a page of store rows, sealing its next cursor for the list call of ctx.
// A page whose records would encode to more than pageBytes(ctx) ends early (see fitPage).
func listOf[S storeRow, T any](ctx context.Context, p store.Page[S], conv func(S) T) (List[T], error) {
	out := List[T]{Object: "list", Data: make([]T, len(p.Items)), HasMore: p.HasMore}
	for i, s := range p.Items {
		out.Data[i] = conv(s)
	}
	if n := fitSelected(ctx, out.Data, selectionOf(ctx)); n < len(out.Data) {
		out.Data, out.HasMore = out.Data[:n], true
		next := p.Items[n-1].Position()
		p.Next = &next
	}
	if p.Next != nil {
		next, err := sealCursor(ctx, uint64(p.Next.CreatedAt.UnixMicro()), p.Next.ID)
		if err != nil {
			return out, err
		}
		out.NextCursor = &next
	}
	return out, nil
}

// MCPPageBytes bounds the records of one list page answered over MCP: about 20,000 tokens
// at four bytes a token, so that a client's cap on tool output (Claude Code's is 25,000
// tokens) never cuts a record in half; the page ends early with has_more instead.
const MCPPageBytes = 80_000

type pageBytesKey struct{}

// withPageBytes returns ctx whose lists stop below n bytes of records (see fitPage).
func withPageBytes(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, pageBytesKey{}, n)
}

// pageBytes is the bound on a list's records for the call of ctx: MCPPageBytes over MCP,
// else store.PageBytes.
func pageBytes(ctx context.Context) int {
	if n, ok := ctx.Value(pageBytesKey{}).(int); ok {
		return n
	}
	return store.PageBytes
}

// fitPage is how many of items, from the first, fit in pageBytes(ctx) of JSON; at least
// one when there are any. It bounds every list in a response (a list page, search results,
// a contact's recent activities): the list stops before the record that would take it past
// the bound, and has_more tells the caller to go on.
func fitPage[T any](ctx context.Context, items []T) int {
	return fitSelected(ctx, items, nil)
}

// fitSelected is fitPage for items of which only the fields keep are sent (all when nil).
func fitSelected[T any](ctx context.Context, items []T, keep []string) int {
	limit := pageBytes(ctx)
	var w countingWriter
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	for i, item := range items {
		var v any = item
		if keep != nil {
			v = selectRecord(item, keep)
		}
		if err := enc.Encode(v); err != nil {
			panic("tools: encode result: " + err.Error())
		}
		if i > 0 && w.n > limit {
			return i
		}
	}
	return len(items)
}

// countingWriter counts the bytes written to it and keeps none.
type countingWriter struct{ n int }

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}
