package tools

import (
	"context"
	"math"
	"net/http"
	"slices"

	"github.com/relmcrm/relm/store"
)

// SearchInput is a full-text query.
type SearchInput struct {
	Q      string       `json:"q" minLength:"1" maxLength:"200" doc:"Words to look for. Every word must match the start of a word in the record (\"ada lov\" finds Ada Lovelace); three or more characters also match anywhere in emails and domains."`
	Types  []RecordKind `json:"types,omitempty" maxItems:"4" doc:"Only these kinds of record (default: all). On REST, comma-separated."`
	Limit  int          `json:"limit,omitempty" minimum:"1" doc:"Page size: default 50, at most 200 (larger counts as 200)."`
	Cursor string       `json:"cursor,omitempty" doc:"The next_cursor of the previous page, unchanged, with the same q and types (limit may change)."`
}

// SearchResult is one ranked match.
type SearchResult struct {
	Object string     `json:"object" enum:"search_result" doc:"Always \"search_result\"."`
	Type   RecordKind `json:"type" doc:"Kind of record matched."`
	ID     string     `json:"id"`
	Title  string     `json:"title" doc:"A human label: the name, title or subject."`
	Score  float64    `json:"score" doc:"Relevance; higher is better."`
	Record any        `json:"record" doc:"The full record, as get_contact, get_company, get_deal or get_activity returns it (without recent_activities)."`
}

func searchTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[SearchInput, List[SearchResult]]{Info: Info{
			Name: "search", Title: "Search", Toolset: "search",
			Description: "Full-text search for the words q across contacts (names, email, phone), companies (name, domain), deals " +
				"(title) and activities (subject, body), best match first. Use it to find a record when you do not " +
				"know its id. types narrows the kinds. Returns {data: [{type, id, title, score, record}], has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/search", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in SearchInput) (List[SearchResult], error) { return search(ctx, s, in) }},
	}
}

func search(ctx context.Context, s *store.Store, in SearchInput) (List[SearchResult], error) {
	out := List[SearchResult]{Object: "list", Data: []SearchResult{}}
	p := store.SearchParams{Query: in.Q, Kinds: kindStrings(in.Types), Limit: in.Limit}
	if in.Cursor != "" {
		score, id, err := openCursor(ctx, in.Cursor)
		if err != nil {
			return out, err
		}
		p.After = &store.SearchCursor{Score: math.Float64frombits(score), ID: id}
	}
	err := read(ctx, s, func(tx *store.Tx) error {
		hits, more, err := store.Search(ctx, tx, p)
		if err != nil {
			return err
		}
		records, err := searchRecords(ctx, tx, hits)
		if err != nil {
			return err
		}
		for _, h := range hits {
			if rec, ok := records[h.ID]; ok { // a hit deleted meanwhile is skipped
				out.Data = append(out.Data, SearchResult{Object: "search_result", Type: RecordKind(h.Kind), ID: h.ID, Title: h.Title, Score: h.Score, Record: rec})
			}
		}
		if n := fitPage(ctx, out.Data); n < len(out.Data) { // the page ends after its n-th result
			out.Data, more = out.Data[:n], true
			hits = hits[:slices.IndexFunc(hits, func(h store.SearchHit) bool { return h.ID == out.Data[n-1].ID })+1]
		}
		if more {
			last := hits[len(hits)-1]
			next, err := sealCursor(ctx, math.Float64bits(last.Score), last.ID)
			if err != nil {
				return err
			}
			out.HasMore, out.NextCursor = true, &next
		}
		return nil
	})
	return out, err
}

// searchRecords loads the records behind hits, one query per kind, keyed by id.
func searchRecords(ctx context.Context, tx *store.Tx, hits []store.SearchHit) (map[string]any, error) {
	ids := map[string][]string{}
	for _, h := range hits {
		ids[h.Kind] = append(ids[h.Kind], h.ID)
	}
	out := map[string]any{}
	for _, load := range []func() error{
		func() error { return loadInto(ctx, tx, store.Contacts, ids["contact"], contactOut, out) },
		func() error { return loadInto(ctx, tx, store.Companies, ids["company"], companyOut, out) },
		func() error { return loadInto(ctx, tx, store.Deals, ids["deal"], dealOut, out) },
		func() error { return loadInto(ctx, tx, store.Activities, ids["activity"], activityOut, out) },
	} {
		if err := load(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadInto[R storeRow, Out any](ctx context.Context, tx *store.Tx, table *store.Table[R], ids []string, conv func(R) Out, into map[string]any) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := store.GetMany(ctx, tx, table, ids)
	for _, r := range rows {
		into[r.Position().ID] = conv(r)
	}
	return err
}
