package store

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ContactRow is one row of a contact import.
type ContactRow struct {
	Email, FirstName, LastName, Phone, CompanyID *string
	Metadata                                     map[string]any
}

// RowOutcome is what became of one import row.
type RowOutcome struct {
	Contact    Contact
	Before     *Contact // the contact before an update
	Created    bool
	Duplicate  bool   // without dedup: the email is taken; nothing was written for the row
	ExistingID string // for Duplicate: who has the email, when known
}

// InvalidRowsError names import rows whose company_id is not a company of the tenant.
type InvalidRowsError struct{ Rows []int }

func (e *InvalidRowsError) Error() string { return "store: rows reference unknown companies" }

// UpsertContacts imports rows in a constant number of statements, whatever their number.
// With dedup, a row whose email (case-insensitively) exists updates that contact: sent
// fields overwrite, absent ones stay, metadata merges; rows repeating an email within the
// batch apply in order to the same contact. Without dedup such rows are Duplicate.
func UpsertContacts(ctx context.Context, tx *Tx, rows []ContactRow, dedup bool) ([]RowOutcome, error) {
	out := make([]RowOutcome, len(rows))
	emails, companies := []string{}, []string{}
	for _, r := range rows {
		if r.Email != nil {
			emails = append(emails, strings.ToLower(*r.Email))
		}
		if r.CompanyID != nil {
			companies = append(companies, *r.CompanyID)
		}
	}

	// One round trip: lock the contacts these emails name, and find unknown companies. The
	// lookups must use the indexes even when the planner's statistics are stale (a table
	// that an import is filling fast looks small), so sequential scans are off meanwhile.
	b := &pgx.Batch{}
	var existing []Contact
	var unknown []string
	b.Queue(`SET LOCAL enable_seqscan = off`)
	b.Queue(`SELECT `+Contacts.cols+` FROM contacts
		WHERE workspace_id = $1 AND mode = $2 AND lower(email) = ANY($3) AND email IS NOT NULL FOR UPDATE`,
		tx.t.WorkspaceID, tx.t.Mode, emails).Query(func(rows pgx.Rows) error {
		var err error
		existing, err = Contacts.scan(rows)
		return err
	})
	if len(companies) > 0 {
		b.Queue(`SELECT DISTINCT u.id FROM unnest($3::text[]) AS u(id) WHERE NOT EXISTS (
			SELECT 1 FROM companies c WHERE c.workspace_id = $1 AND c.mode = $2 AND c.id = u.id)`,
			tx.t.WorkspaceID, tx.t.Mode, companies).Query(func(rows pgx.Rows) error {
			var err error
			unknown, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
	}
	b.Queue(`SET LOCAL enable_seqscan = on`)
	if err := tx.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, wrap("import contacts", err)
	}
	if bad := rowsNaming(rows, unknown); len(bad) > 0 {
		return nil, &InvalidRowsError{Rows: bad}
	}
	byEmail := map[string]*Contact{}
	for i := range existing {
		byEmail[strings.ToLower(*existing[i].Email)] = &existing[i]
	}

	// Decide each row's target: a new id, or (with dedup) the contact its email names.
	type target struct {
		ID    string
		Index []int // the input rows it stands for
		Row   ContactRow
	}
	var targets []*target
	byKey := map[string]*target{}
	for i, r := range rows {
		key := ""
		if r.Email != nil {
			key = strings.ToLower(*r.Email)
		}
		if t := byKey[key]; key != "" && t != nil {
			if !dedup {
				out[i] = RowOutcome{Duplicate: true, ExistingID: t.ID}
				continue
			}
			t.Index = append(t.Index, i)
			t.Row = mergeRow(t.Row, r)
			continue
		}
		if c := byEmail[key]; key != "" && c != nil && !dedup {
			out[i] = RowOutcome{Duplicate: true, ExistingID: c.ID}
			continue
		}
		t := &target{ID: NewID("con_"), Index: []int{i}, Row: r}
		if c := byEmail[key]; c != nil {
			t.ID = c.ID
		}
		targets = append(targets, t)
		if key != "" {
			byKey[key] = t
		}
	}
	if len(targets) == 0 {
		return out, nil
	}

	input := make([]map[string]any, len(targets))
	for n, t := range targets {
		md := t.Row.Metadata
		if md == nil {
			md = map[string]any{}
		}
		input[n] = map[string]any{"n": n, "id": t.ID, "email": t.Row.Email, "first_name": t.Row.FirstName,
			"last_name": t.Row.LastName, "phone": t.Row.Phone, "company_id": t.Row.CompanyID, "metadata": md}
	}
	doc, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	res, err := tx.tx.Query(ctx, `
		INSERT INTO contacts AS c (id, workspace_id, mode, email, first_name, last_name, phone, company_id, metadata)
		SELECT id, $1, $2, email, first_name, last_name, phone, company_id, metadata
		FROM jsonb_to_recordset($3::jsonb) AS x(n int, id text, email text, first_name text, last_name text,
			phone text, company_id text, metadata jsonb)
		ORDER BY n
		ON CONFLICT (workspace_id, mode, lower(email)) WHERE email IS NOT NULL DO UPDATE SET
			first_name = coalesce(EXCLUDED.first_name, c.first_name),
			last_name  = coalesce(EXCLUDED.last_name, c.last_name),
			phone      = coalesce(EXCLUDED.phone, c.phone),
			company_id = coalesce(EXCLUDED.company_id, c.company_id),
			metadata   = c.metadata || EXCLUDED.metadata,
			updated_at = clock_timestamp()
		RETURNING `+prefixed("c", Contacts.cols)+`, (xmax = 0) AS inserted`, tx.t.WorkspaceID, tx.t.Mode, string(doc))
	if err != nil {
		return nil, wrap("import contacts", classify(err))
	}
	type upserted struct {
		Contact
		Inserted bool `db:"inserted"`
	}
	written, err := collect[upserted](res)
	if err != nil {
		return nil, wrap("import contacts", classify(err))
	}
	byID := map[string]upserted{}
	for _, w := range written {
		byID[w.ID] = w
	}
	for _, t := range targets {
		w, ok := byID[t.ID]
		if !ok { // a concurrent import took the email between our lock and insert
			for _, i := range t.Index {
				out[i] = RowOutcome{Duplicate: true}
			}
			continue
		}
		var before *Contact
		if t.Row.Email != nil {
			before = byEmail[strings.ToLower(*t.Row.Email)]
		}
		for k, i := range t.Index {
			out[i] = RowOutcome{Contact: w.Contact, Before: before, Created: w.Inserted && k == 0}
		}
	}
	return out, nil
}

// mergeRow applies the fields later sets over earlier.
func mergeRow(earlier, later ContactRow) ContactRow {
	pick := func(a, b *string) *string {
		if b != nil {
			return b
		}
		return a
	}
	md := map[string]any{}
	for k, v := range earlier.Metadata {
		md[k] = v
	}
	for k, v := range later.Metadata {
		md[k] = v
	}
	return ContactRow{Email: earlier.Email, FirstName: pick(earlier.FirstName, later.FirstName),
		LastName: pick(earlier.LastName, later.LastName), Phone: pick(earlier.Phone, later.Phone),
		CompanyID: pick(earlier.CompanyID, later.CompanyID), Metadata: md}
}

// rowsNaming lists the indexes of rows whose company_id is among ids.
func rowsNaming(rows []ContactRow, ids []string) []int {
	var bad []int
	for i, r := range rows {
		for _, id := range ids {
			if r.CompanyID != nil && *r.CompanyID == id {
				bad = append(bad, i)
			}
		}
	}
	return bad
}

// prefixed qualifies each column of a column list with table alias a.
func prefixed(a, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = a + "." + p
	}
	return strings.Join(parts, ", ")
}
