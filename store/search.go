package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// SearchKinds are the record kinds search covers.
var SearchKinds = RecordKinds

// SearchHit is one ranked match.
type SearchHit struct {
	Kind  string  `db:"kind"`
	ID    string  `db:"id"`
	Title string  `db:"title"`
	Score float64 `db:"score"`
}

// SearchParams select one page of search results.
type SearchParams struct {
	Query string
	Kinds []string // empty means all
	Limit int
	After *SearchCursor
	// AnyWord matches records with any word of Query of three or more letters that is not
	// a common English word (questionWords), for a question in natural language ("who is
	// ada lovelace?"); records matching more of them rank higher.
	AnyWord bool
}

// SearchCursor is a position in a ranked result list.
type SearchCursor struct {
	Score float64
	ID    string
}

// searchSource is, for one kind, the SQL scoring the tenant's matching rows: full-text with
// prefix matching on every word ($1, a tsquery), plus substring matching ($2, a LIKE
// pattern, trigram-indexed) on the column sub, when the query is long enough for trigrams.
//
// The candidates come from the definer function fn (migration 00008): neither @@ nor LIKE
// is leakproof, so beneath the row-level security policy no index could serve them and
// every search would read all of the tenant's rows. fn runs the same tenant predicate as the
// policy, on the indexes, with enable_seqscan off (with a candidate limit the planner may
// prefer a sequential scan that stops early, which for a rare word reads the whole table).
type searchSource struct {
	kind, fn, title, sub string
}

var searchSources = []searchSource{
	{"contact", "relm_search_contacts", "coalesce(nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ''), email, phone, id)", "lower(email)"},
	{"company", "relm_search_companies", "name", "lower(domain)"},
	{"deal", "relm_search_deals", "title", ""},
	{"activity", "relm_search_activities", "coalesce(subject, type)", ""},
}

// searchCandidates caps how many matching records of each kind are ranked: a very common
// word (a first name in a million contacts) would otherwise rank tens of thousands of rows.
const searchCandidates = 1000

func (s searchSource) sql(withPattern bool) string {
	score := "ts_rank(search, to_tsquery('simple', $1))"
	args := "to_tsquery('simple', $1)"
	switch {
	case s.sub == "":
	case withPattern:
		score += " + CASE WHEN " + s.sub + " LIKE $2 THEN 0.5 ELSE 0 END"
		args += ", $2"
	default:
		args += ", NULL"
	}
	return "SELECT '" + s.kind + "' AS kind, id, " + s.title + " AS title, (" + score + ")::float8 AS score FROM " +
		s.fn + "(" + args + ", " + strconv.Itoa(searchCandidates) + ") AS candidates"
}

// Search ranks the tenant's records matching the query, best first.
func Search(ctx context.Context, tx *Tx, p SearchParams) (hits []SearchHit, hasMore bool, err error) {
	tsq, pat := searchTerms(p.Query)
	if p.AnyWord {
		tsq, pat = anyWordTerms(p.Query), nil
	}
	if tsq == "" && pat == nil {
		return []SearchHit{}, false, nil
	}
	kinds := p.Kinds
	if len(kinds) == 0 {
		kinds = SearchKinds
	}
	q := query{args: []any{tsq}}
	// Bind the pattern only when a searched kind matches substrings: PostgreSQL cannot type
	// a parameter that no part of the query uses.
	withPattern := pat != nil && slices.ContainsFunc(searchSources, func(s searchSource) bool {
		return s.sub != "" && slices.Contains(kinds, s.kind)
	})
	if withPattern {
		q.arg(*pat)
	}
	var parts []string
	for _, src := range searchSources {
		if slices.Contains(kinds, src.kind) {
			parts = append(parts, src.sql(withPattern))
		}
	}
	where := ""
	if p.After != nil {
		where = "WHERE (score, id) < (" + q.arg(p.After.Score) + "::float8, " + q.arg(p.After.ID) + ")"
	}
	limit := ClampLimit(p.Limit)
	rows, err := tx.tx.Query(ctx, `
		SELECT kind, id, title, score FROM (`+strings.Join(parts, " UNION ALL ")+`) hits `+where+`
		ORDER BY score DESC, id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, false, wrap("search", err)
	}
	hits, err = collect[SearchHit](rows)
	if err != nil {
		return nil, false, wrap("search", err)
	}
	if len(hits) > limit {
		return hits[:limit], true, nil
	}
	return hits, false, nil
}

// anyWordTerms turns a question into a prefix tsquery matching any of its words that say
// something ('ada':* | 'lovelace':*): of three or more characters, not in questionWords.
func anyWordTerms(query string) string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(words) < 16 && len([]rune(w)) >= 3 && !slices.Contains(questionWords, w) && !slices.Contains(words, "'"+w+"':*") {
			words = append(words, "'"+w+"':*")
		}
	}
	return strings.Join(words, " | ")
}

// questionWords are the words of a question that say nothing about the records sought.
var questionWords = []string{"the", "and", "for", "with", "about", "from", "into", "that", "this", "these", "those",
	"who", "what", "which", "when", "where", "why", "how", "are", "was", "were", "has", "have", "had", "does", "did",
	"any", "all", "our", "your", "their", "there", "can", "you", "tell", "show", "find", "list", "give", "get", "latest"}

// searchTerms turns a query into a prefix tsquery ('ada':* & 'lov':*) whose words contain
// only letters and digits, and, for a single word of three or more characters (emails and
// domains have no spaces), a LIKE pattern for substring matches on emails and domains.
// Neither can carry SQL: both are bound.
func searchTerms(query string) (string, *string) {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(words) < 16 {
			words = append(words, "'"+w+"':*")
		}
	}
	needle := strings.ToLower(strings.TrimSpace(query))
	if len([]rune(needle)) < 3 || strings.ContainsFunc(needle, unicode.IsSpace) {
		return strings.Join(words, " & "), nil
	}
	pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(needle) + "%"
	return strings.Join(words, " & "), &pat
}
