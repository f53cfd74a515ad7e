package transfer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// BatchSize is the most rows POST /v1/contacts/batch takes in one call.
const BatchSize = 500

// maxBatchBytes keeps a batch's body under the server's 1 MiB limit, with room to spare.
const maxBatchBytes = 900 << 10

// ImportOptions say how a CSV file becomes contacts.
type ImportOptions struct {
	// Map names the field of columns the aliases do not match, or that they match wrongly:
	// header → email, first_name, last_name, phone, company_id, metadata, metadata.KEY, or
	// "-" to ignore the column. Headers match case-, space- and punctuation-insensitively.
	Map map[string]string
	// MetadataColumns puts every column that is neither mapped nor an alias into metadata,
	// under its header in lower case with underscores ("Lead Source" → lead_source);
	// without it such columns are ignored, and the summary names them.
	MetadataColumns bool
	// Comma is the delimiter; 0 detects , ; or tab from the header line.
	Comma rune
	// BatchSize is the most rows per call (default and at most BatchSize).
	BatchSize int
	// Progress is told of each batch sent; nil for none.
	Progress *Progress
}

// ImportResult is what an import did.
type ImportResult struct {
	Header []string
	Comma  rune
	// Columns says what each column of the file filled ("" when ignored).
	Columns  []string
	Ignored  []string // headers of ignored columns
	Rows     int      // data rows read, blank ones aside
	Created  int
	Updated  int
	Failed   []FailedRow // in line order
	NoEmail  int         // rows sent without an email, which cannot be deduplicated
	Batches  int         // calls made, retries of a batch without its invalid rows included
	Replayed int         // calls the server answered from an earlier run (same Idempotency-Key)
}

// FailedRow is a row of the file that was not written, and why ("code: message").
type FailedRow struct {
	Line   int
	Fields []string
	Error  string
}

// pendingRow is a row on its way to the API.
type pendingRow struct {
	line    int
	fields  []string
	contact contactRow
	size    int
}

// ImportContacts creates or updates a contact for each row of a CSV file, through
// POST /v1/contacts/batch with dedup_on: ["email"] in batches of up to 500 rows. Each call
// carries an Idempotency-Key made of a hash of the file and the options and the batch's
// place, so importing the same file again within the server's 24 hours replays the stored
// answers instead of writing again; after that, rows upsert by email again, which is safe
// too (rows without an email are created again). A batch the API refuses for invalid rows
// (422 naming them) is sent again without them, and they are reported as failed. A failure
// that stops the import (a bad key, a server that keeps failing) returns the result so
// far, with every row not written in Failed, and the error.
func (c *Client) ImportContacts(ctx context.Context, data []byte, opts ImportOptions) (*ImportResult, error) {
	t, err := readTable(data, opts.Comma)
	if err != nil {
		return nil, err
	}
	cm, err := mapColumns(t.Header, opts.Map, opts.MetadataColumns)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Header: t.Header, Comma: t.Comma, Columns: cm.Fields, Ignored: cm.Ignored, Rows: len(t.Rows) + len(t.Malformed)}
	for _, r := range t.Malformed {
		res.Failed = append(res.Failed, FailedRow{Line: r.Line, Fields: r.Fields, Error: r.Err})
	}
	var pending []pendingRow
	for _, r := range t.Rows {
		row, err := cm.contact(r.Fields)
		if err != nil {
			res.Failed = append(res.Failed, FailedRow{Line: r.Line, Fields: r.Fields, Error: err.Error()})
			continue
		}
		b, err := json.Marshal(row)
		if err != nil {
			return nil, err
		}
		if row.Email == "" {
			res.NoEmail++
		}
		pending = append(pending, pendingRow{line: r.Line, fields: r.Fields, contact: row, size: len(b) + 1})
	}
	batches := split(pending, opts.BatchSize)
	base := importKey(data, t.Comma, cm.Fields)
	p := opts.Progress
	p.start(res.Rows)
	p.advance(len(res.Failed), res)
	replayedBefore := c.Replayed()
	for i, b := range batches {
		if err := c.sendBatch(ctx, fmt.Sprintf("%s-%d", base, i), b, res); err != nil {
			for _, later := range batches[i:] {
				for _, r := range later {
					res.Failed = append(res.Failed, FailedRow{Line: r.line, Fields: r.fields, Error: "not_sent: the import stopped before this row was written"})
				}
			}
			res.finish(c.Replayed() - replayedBefore)
			p.finish()
			return res, err
		}
		p.advance(len(b), res)
	}
	res.finish(c.Replayed() - replayedBefore)
	p.finish()
	return res, nil
}

func (r *ImportResult) finish(replayed int) {
	r.Replayed = replayed
	sortFailed(r.Failed)
}

// importKey is the start of the Idempotency-Keys of an import: a hash of the file and of
// what its columns fill, so that the same file imported the same way gets the same keys.
func importKey(data []byte, comma rune, columns []string) string {
	h := sha256.New()
	h.Write(data)
	fmt.Fprintf(h, "\x00%c\x00%s", comma, strings.Join(columns, "\x00"))
	return fmt.Sprintf("relm-import-%x", h.Sum(nil)[:16])
}

// split cuts rows into batches of at most size rows (default and at most BatchSize) whose
// bodies stay under the request size limit.
func split(rows []pendingRow, size int) [][]pendingRow {
	if size <= 0 || size > BatchSize {
		size = BatchSize
	}
	var out [][]pendingRow
	var cur []pendingRow
	bytes := 0
	for _, r := range rows {
		if len(cur) == size || (len(cur) > 0 && bytes+r.size > maxBatchBytes) {
			out, cur, bytes = append(out, cur), nil, 0
		}
		cur = append(cur, r)
		bytes += r.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type batchRequest struct {
	Contacts []contactRow `json:"contacts"`
	DedupOn  []string     `json:"dedup_on"`
}

type batchResult struct {
	Data []struct {
		Index  int       `json:"index"`
		Status string    `json:"status"`
		Error  *APIError `json:"error"`
	} `json:"data"`
}

var rowField = regexp.MustCompile(`^contacts\.(\d+)(?:\.(.+))?$`)

// sendBatch sends one batch and records each row's outcome in res. When the API refuses
// the batch for invalid rows, those rows fail and the rest is sent again under the key
// with a suffix (-r1, -r2…), which a rerun of the same file repeats exactly.
func (c *Client) sendBatch(ctx context.Context, key string, rows []pendingRow, res *ImportResult) error {
	for try := 0; ; try++ {
		k := key
		if try > 0 {
			k = fmt.Sprintf("%s-r%d", key, try)
		}
		req := batchRequest{DedupOn: []string{"email"}}
		for _, r := range rows {
			req.Contacts = append(req.Contacts, r.contact)
		}
		var out batchResult
		res.Batches++
		err := c.post(ctx, "/v1/contacts/batch", req, k, &out)
		if err == nil {
			if len(out.Data) != len(rows) {
				return fmt.Errorf("the API answered %d results for a batch of %d rows", len(out.Data), len(rows))
			}
			for i, d := range out.Data {
				switch d.Status {
				case "created":
					res.Created++
				case "updated":
					res.Updated++
				default:
					msg := "error: the API did not say why"
					if d.Error != nil {
						msg = d.Error.Error()
					}
					res.Failed = append(res.Failed, FailedRow{Line: rows[i].line, Fields: rows[i].fields, Error: msg})
				}
			}
			return nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
			return err
		}
		bad := map[int]string{}
		for _, d := range ae.Details {
			m := rowField.FindStringSubmatch(d.Field)
			if m == nil {
				return err // not about a row: nothing to leave out
			}
			i, _ := strconv.Atoi(m[1])
			if i >= len(rows) {
				return err
			}
			what := d.Message
			if m[2] != "" {
				what = m[2] + " " + d.Message
			}
			if prev, ok := bad[i]; ok {
				what = prev + "; " + what
			}
			bad[i] = what
		}
		if len(bad) == 0 {
			return err
		}
		var keep []pendingRow
		for i, r := range rows {
			if why, ok := bad[i]; ok {
				res.Failed = append(res.Failed, FailedRow{Line: r.line, Fields: r.fields, Error: ae.Code + ": " + why})
			} else {
				keep = append(keep, r)
			}
		}
		if rows = keep; len(rows) == 0 {
			return nil
		}
	}
}

func sortFailed(f []FailedRow) {
	slices.SortStableFunc(f, func(a, b FailedRow) int { return cmp.Compare(a.Line, b.Line) })
}

// WriteFailed writes the failed rows as CSV: line (of the input file), the input's columns,
// and error (code: message). It uses the input's delimiter, so the file opens as the input
// did.
func (r *ImportResult) WriteFailed(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Comma = r.Comma
	header := append(append([]string{"line"}, r.Header...), "error")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, f := range r.Failed {
		fields := make([]string, len(r.Header))
		copy(fields, f.Fields) // a malformed row may have fewer or more fields than the header
		if len(f.Fields) > len(r.Header) {
			fields[len(fields)-1] = strings.Join(f.Fields[len(r.Header)-1:], string(r.Comma))
		}
		if err := cw.Write(append(append([]string{strconv.Itoa(f.Line)}, fields...), f.Error)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
