package transfer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Resources are the record lists relm export reads.
var Resources = []string{"contacts", "companies", "deals", "activities"}

// ExportOptions say what to export and how.
type ExportOptions struct {
	Resource string // one of Resources
	Format   string // "jsonl" (default) or "csv"
	// Filters are list filters as the query string takes them, each
	// "filter[field][op]=value" (or "field=value"), written as they are meant: the export
	// escapes them for the URL.
	Filters []string
	// PageSize is the limit of each page (default and at most 200, the API's most).
	PageSize int
}

// Export writes every record of a list to w, paging with next_cursor until has_more is
// false, and returns how many it wrote. JSON Lines holds each record exactly as the API
// returned it, one per line. CSV has a column per field in the API's order (id first);
// null is an empty cell, numbers and booleans are as in JSON, and objects (metadata) and
// arrays are JSON text.
func (c *Client) Export(ctx context.Context, opts ExportOptions, w io.Writer) (int, error) {
	if !slices.Contains(Resources, opts.Resource) {
		return 0, fmt.Errorf("cannot export %q: one of %s", opts.Resource, strings.Join(Resources, ", "))
	}
	query := url.Values{}
	for _, f := range opts.Filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return 0, fmt.Errorf("--filter %q: want filter[field][op]=value", f)
		}
		if k == "limit" || k == "cursor" {
			return 0, fmt.Errorf("--filter %q: the export sets %s itself", f, k)
		}
		query.Add(k, v)
	}
	size := opts.PageSize
	if size <= 0 || size > 200 {
		size = 200
	}
	query.Set("limit", strconv.Itoa(size))
	var out recordWriter
	switch opts.Format {
	case "", "jsonl":
		out = &jsonlWriter{w: w}
	case "csv":
		out = &csvWriter{w: csv.NewWriter(w)}
	default:
		return 0, fmt.Errorf("unknown format %q (jsonl or csv)", opts.Format)
	}
	n := 0
	for {
		var page struct {
			Data       []json.RawMessage `json:"data"`
			HasMore    bool              `json:"has_more"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := c.get(ctx, "/v1/"+opts.Resource+"?"+query.Encode(), &page); err != nil {
			return n, err
		}
		for _, rec := range page.Data {
			if err := out.write(rec); err != nil {
				return n, err
			}
			n++
		}
		if !page.HasMore {
			return n, out.flush()
		}
		if page.NextCursor == "" {
			return n, fmt.Errorf("the API said has_more without a next_cursor")
		}
		query.Set("cursor", page.NextCursor)
	}
}

type recordWriter interface {
	write(json.RawMessage) error
	flush() error
}

type jsonlWriter struct{ w io.Writer }

func (j *jsonlWriter) write(rec json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Compact(&b, rec); err != nil { // one line, whatever the server's spacing
		return err
	}
	b.WriteByte('\n')
	_, err := j.w.Write(b.Bytes())
	return err
}

func (j *jsonlWriter) flush() error { return nil }

// csvWriter writes records as CSV, its columns the fields of the first record in order.
type csvWriter struct {
	w       *csv.Writer
	columns []string
}

func (c *csvWriter) write(rec json.RawMessage) error {
	keys, values, err := orderedFields(rec)
	if err != nil {
		return err
	}
	if c.columns == nil {
		c.columns = keys
		if err := c.w.Write(keys); err != nil {
			return err
		}
	}
	row := make([]string, len(c.columns))
	for k, v := range values {
		i := slices.Index(c.columns, k)
		if i < 0 {
			return fmt.Errorf("a record has the field %q, which the first record did not have", k)
		}
		row[i] = cell(v)
	}
	return c.w.Write(row)
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// orderedFields reads a JSON object's keys in their order and its values.
func orderedFields(rec json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	var values map[string]json.RawMessage
	if err := json.Unmarshal(rec, &values); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(rec))
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, err
		}
	}
	return keys, values, nil
}

// cell is a JSON value as a CSV cell: strings as they are, null empty, the rest as JSON.
func cell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case bytes.Equal(v, []byte("null")):
		return ""
	case len(v) > 0 && v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return b.String()
	}
	return string(v)
}
