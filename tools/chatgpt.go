package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/relmcrm/relm/store"
)

// ChatGPT's connectors and deep research call two tools by fixed names and shapes
// (https://platform.openai.com/docs/mcp): search takes {query} and answers
// {results: [{id, title, url}]}; fetch takes {id} and answers {id, title, text, url, metadata}.
// Relm's own search has another shape, so these are the opt-in chatgpt toolset, served as
// search and fetch (Info.MCPName) to a client that connects with ?toolsets=chatgpt.

// ChatGPTSearchInput is what ChatGPT's search sends.
type ChatGPTSearchInput struct {
	Query string `json:"query" minLength:"1" maxLength:"200" doc:"Words of a name, email, phone, company name or domain, deal title or activity subject. Records matching every word come first (\"ada lov\" finds Ada Lovelace); when none does, those matching any word of three or more letters (\"who is ada lovelace?\")."`
}

// ChatGPTSearchResults are the matches of a ChatGPT search, best first.
type ChatGPTSearchResults struct {
	Results []ChatGPTResult `json:"results" maxItems:"20" doc:"At most 20 records, best match first; empty when nothing matches."`
}

// ChatGPTResult is one record found: its id for fetch, a label and the page of it.
type ChatGPTResult struct {
	ID    string `json:"id" doc:"The record's id (con_, cmp_, deal_ or act_…): pass it to fetch."`
	Title string `json:"title" doc:"A human label: the name, title or subject."`
	URL   string `json:"url" format:"uri" doc:"The record's page in Relm's dashboard, for citing."`
}

// ChatGPTFetchInput is what ChatGPT's fetch sends: an id a search returned.
type ChatGPTFetchInput struct {
	ID RecordID `json:"id" doc:"The id of a contact, company, deal or activity, as search returned it."`
}

// ChatGPTDocument is one record as a document for a model to read.
type ChatGPTDocument struct {
	ID       string          `json:"id"`
	Title    string          `json:"title" doc:"A human label: the name, title or subject."`
	Text     string          `json:"text" doc:"The record's fields and values, one per line (\"email: ada@example.com\"), custom fields as metadata.KEY."`
	URL      string          `json:"url" format:"uri" doc:"The record's page in Relm's dashboard, for citing."`
	Metadata ChatGPTMetadata `json:"metadata"`
}

// ChatGPTMetadata are a fetched record's key facts.
type ChatGPTMetadata struct {
	Kind      RecordKind `json:"kind" doc:"Kind of record."`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// chatgptSearchLimit is how many results ChatGPT's search returns: a page a model reads whole.
const chatgptSearchLimit = 20

func chatgptTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[ChatGPTSearchInput, ChatGPTSearchResults]{Info: Info{
			Name: "chatgpt_search", MCPName: "search", Title: "Search the CRM", Toolset: "chatgpt",
			Description: "Find contacts, companies, deals and activities of the CRM by the words of query, each matching the start of a " +
				"word of a name, email, phone, domain, title or subject (when no record matches them all, any of them). Returns " +
				"{results: [{id, title, url}]}, at most 20, best first; read one with fetch.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/chatgpt/search", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ChatGPTSearchInput) (ChatGPTSearchResults, error) {
			return chatgptSearch(ctx, s, in)
		}},
		&Capability[ChatGPTFetchInput, ChatGPTDocument]{Info: Info{
			Name: "chatgpt_fetch", MCPName: "fetch", Title: "Read a CRM record", Toolset: "chatgpt",
			Description: "Read one contact, company, deal or activity by the id search returned. Returns {id, title, text: its fields " +
				"and values, url: its page, metadata: {kind, created_at, updated_at}}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/chatgpt/fetch/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ChatGPTFetchInput) (ChatGPTDocument, error) {
			return chatgptFetch(ctx, s, string(in.ID))
		}},
	}
}

func chatgptSearch(ctx context.Context, s *store.Store, in ChatGPTSearchInput) (ChatGPTSearchResults, error) {
	out := ChatGPTSearchResults{Results: []ChatGPTResult{}}
	err := read(ctx, s, func(tx *store.Tx) error {
		p := store.SearchParams{Query: in.Query, Limit: chatgptSearchLimit}
		hits, _, err := store.Search(ctx, tx, p)
		if err == nil && len(hits) == 0 && strings.ContainsFunc(strings.TrimSpace(in.Query), unicode.IsSpace) {
			p.AnyWord = true // a question, such as deep research asks: any word that says something
			hits, _, err = store.Search(ctx, tx, p)
		}
		for _, h := range hits {
			out.Results = append(out.Results, ChatGPTResult{ID: h.ID, Title: h.Title, URL: recordPage(ctx, h.Kind, h.ID)})
		}
		return err
	})
	return out, err
}

func chatgptFetch(ctx context.Context, s *store.Store, id string) (ChatGPTDocument, error) {
	kind := recordKindOf(id)
	doc := ChatGPTDocument{ID: id, URL: recordPage(ctx, kind, id), Metadata: ChatGPTMetadata{Kind: RecordKind(kind)}}
	var rec any
	err := read(ctx, s, func(tx *store.Tx) error {
		var err error
		m := &doc.Metadata
		switch kind {
		case store.Contacts.Kind:
			var c store.Contact
			if c, err = store.Get(ctx, tx, store.Contacts, id); err == nil {
				out := contactOut(c)
				rec, doc.Title, m.CreatedAt, m.UpdatedAt = out, contactTitle(out), out.CreatedAt, out.UpdatedAt
			}
		case store.Companies.Kind:
			var c store.Company
			if c, err = store.Get(ctx, tx, store.Companies, id); err == nil {
				out := companyOut(c)
				rec, doc.Title, m.CreatedAt, m.UpdatedAt = out, out.Name, out.CreatedAt, out.UpdatedAt
			}
		case store.Deals.Kind:
			var d store.Deal
			if d, err = store.Get(ctx, tx, store.Deals, id); err == nil {
				out := dealOut(d)
				rec, doc.Title, m.CreatedAt, m.UpdatedAt = out, out.Title, out.CreatedAt, out.UpdatedAt
			}
		default: // the input's pattern admits only the four kinds
			var a store.Activity
			if a, err = store.Get(ctx, tx, store.Activities, id); err == nil {
				out := activityOut(a)
				rec, doc.Title, m.CreatedAt, m.UpdatedAt = out, activityTitle(out), out.CreatedAt, out.UpdatedAt
			}
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return doc, NotFound(kind, id)
	}
	if err != nil {
		return doc, err
	}
	doc.Text, err = recordText(doc.Title, kind, rec)
	return doc, err
}

// recordKindOf is the kind of record id names, by its prefix; "" for none.
func recordKindOf(id string) string {
	for _, k := range store.RecordKinds {
		if strings.HasPrefix(id, idPrefix(k)) {
			return k
		}
	}
	return ""
}

// recordPages are the dashboard's pages of records (dashboard/records.go), by kind.
var recordPages = map[string]string{"contact": "/contacts/", "company": "/companies/", "deal": "/deals/", "activity": "/activities/"}

// recordPage is the URL of a record's page in the dashboard, on the server's public URL.
func recordPage(ctx context.Context, kind, id string) string {
	reg, _ := ctx.Value(registryKey{}).(*Registry)
	base := ""
	if reg != nil {
		base = reg.publicURL
	}
	return base + recordPages[kind] + id
}

// SetPublicURL tells the capabilities where people reach this server (scheme, host and any
// path prefix), for the links they return, such as ChatGPT's search results.
func (r *Registry) SetPublicURL(u string) { r.publicURL = strings.TrimSuffix(u, "/") }

func contactTitle(c Contact) string {
	name := strings.TrimSpace(deref(c.FirstName) + " " + deref(c.LastName))
	for _, s := range []string{name, deref(c.Email), deref(c.Phone)} {
		if s != "" {
			return s
		}
	}
	return c.ID
}

func activityTitle(a Activity) string {
	if s := deref(a.Subject); s != "" {
		return s
	}
	return a.Type
}

// recordText renders rec for a model to read: a heading, then each field with a value as
// "field: value" in the record's own order, custom fields as metadata.KEY.
func recordText(title, kind string, rec any) (string, error) {
	var b strings.Builder
	n := nameOf(kind).one
	fmt.Fprintf(&b, "%s%s: %s\n", strings.ToUpper(n[:1]), n[1:], title)
	err := eachField(Encode(rec), func(key string, raw json.RawMessage) error {
		if key != "metadata" {
			writeField(&b, key, raw)
			return nil
		}
		return eachField(raw, func(k string, v json.RawMessage) error {
			writeField(&b, "metadata."+k, v)
			return nil
		})
	})
	return strings.TrimSuffix(b.String(), "\n"), err
}

// eachField calls fn for each member of the JSON object raw, in order.
func eachField(raw []byte, fn func(key string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return fmt.Errorf("tools: record text: %w", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("tools: record text: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("tools: record text: %w", err)
		}
		if err := fn(fmt.Sprint(tok), v); err != nil {
			return err
		}
	}
	return nil
}

// writeField writes one "field: value" line; null fields are left out, strings unquoted.
func writeField(b *strings.Builder, key string, raw json.RawMessage) {
	if string(raw) == "null" {
		return
	}
	value := string(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		value = s
	}
	fmt.Fprintf(b, "%s: %s\n", key, value)
}
