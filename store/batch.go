package store

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/schemas"
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

// target is one contact an import writes, standing for one or more input rows.
type target struct {
	id    string
	rows  []int // the input rows it stands for, in order
	dups  []int // without dedup: later rows repeating its email, reported as duplicates of it
	row   ContactRow
	email string // lower-cased, "" when none
}

// UpsertContacts imports rows with a fixed number of statements, whatever their number:
// new contacts are inserted in one statement (the email index arbitrates conflicts), and
// only rows whose email already exists are then updated (with dedup) or reported (without).
// With dedup, sent fields overwrite, absent ones stay and metadata merges; rows repeating
// an email within the batch apply in order to the same contact. Without dedup such rows are
// Duplicate.
func UpsertContacts(ctx context.Context, tx *Tx, rows []ContactRow, dedup bool) ([]RowOutcome, error) {
	if err := checkCompanies(ctx, tx, rows); err != nil {
		return nil, err
	}
	out := make([]RowOutcome, len(rows))
	targets := planTargets(rows, dedup, out)
	if len(targets) == 0 {
		return out, nil
	}
	inserted, err := insertTargets(ctx, tx, targets)
	if err != nil {
		return nil, err
	}
	var taken []*target // targets whose email another contact already has
	for _, t := range targets {
		c, ok := inserted[t.id]
		if !ok {
			taken = append(taken, t)
			continue
		}
		for k, i := range t.rows {
			out[i] = RowOutcome{Contact: c, Created: k == 0}
		}
		for _, i := range t.dups {
			out[i] = RowOutcome{Duplicate: true, ExistingID: t.id}
		}
	}
	if len(taken) == 0 {
		return out, nil
	}
	if !dedup {
		return out, reportTaken(ctx, tx, taken, out)
	}
	return out, updateTargets(ctx, tx, taken, out)
}

// checkCompanies fails with InvalidRowsError when a row names a company the tenant lacks.
func checkCompanies(ctx context.Context, tx *Tx, rows []ContactRow) error {
	var ids []string
	for _, r := range rows {
		if r.CompanyID != nil {
			ids = append(ids, *r.CompanyID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	res, err := tx.tx.Query(ctx, `SELECT DISTINCT u.id FROM unnest($3::text[]) AS u(id) WHERE NOT EXISTS (
		SELECT 1 FROM companies c WHERE c.workspace_id = $1 AND c.mode = $2 AND c.id = u.id)`, tx.t.WorkspaceID, tx.t.Mode, ids)
	if err != nil {
		return wrap("import contacts", err)
	}
	unknown, err := pgx.CollectRows(res, pgx.RowTo[string])
	if err != nil {
		return wrap("import contacts", err)
	}
	var bad []int
	for i, r := range rows {
		for _, id := range unknown {
			if r.CompanyID != nil && *r.CompanyID == id {
				bad = append(bad, i)
			}
		}
	}
	if len(bad) > 0 {
		return &InvalidRowsError{Rows: bad}
	}
	return nil
}

// planTargets groups rows into the contacts to write. With dedup, rows sharing an email
// merge into one target; without, a repeated email marks the later row Duplicate.
func planTargets(rows []ContactRow, dedup bool, out []RowOutcome) []*target {
	var targets []*target
	byEmail := map[string]*target{}
	for i, r := range rows {
		email := ""
		if r.Email != nil {
			email = strings.ToLower(*r.Email)
		}
		if t := byEmail[email]; email != "" && t != nil {
			if !dedup {
				t.dups = append(t.dups, i)
				continue
			}
			t.rows = append(t.rows, i)
			t.row = mergeRow(t.row, r)
			continue
		}
		t := &target{id: NewID(Contacts.Prefix), rows: []int{i}, row: r, email: email}
		targets = append(targets, t)
		if email != "" {
			byEmail[email] = t
		}
	}
	return targets
}

// targetArgs are the arguments of the import statements: the tenant ($1, $2), then the
// columns of targets, one array per column with an element per target in order ($3 … $9),
// which the statements read with unnestTargets. Arrays in pgx's binary format cost
// PostgreSQL about a microsecond a row to read, where a JSON document for
// jsonb_to_recordset cost it seven or eight.
func targetArgs(tx *Tx, targets []*target) ([]any, error) {
	n := len(targets)
	ids, metadata := make([]string, n), make([]string, n)
	email, first, last, phone, company := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	for i, t := range targets {
		md := t.row.Metadata
		if md == nil {
			md = map[string]any{}
		}
		doc, err := json.Marshal(md)
		if err != nil {
			return nil, err
		}
		ids[i], metadata[i] = t.id, string(doc)
		email[i], first[i], last[i], phone[i], company[i] = t.row.Email, t.row.FirstName, t.row.LastName, t.row.Phone, t.row.CompanyID
	}
	return []any{tx.t.WorkspaceID, tx.t.Mode, ids, email, first, last, phone, company, metadata}, nil
}

// unnestTargets is the rows of targetArgs; n is the target's index in targets.
const unnestTargets = `(SELECT id, email, first_name, last_name, phone, company_id, metadata::jsonb AS metadata, n - 1 AS n
	FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
		WITH ORDINALITY AS u (id, email, first_name, last_name, phone, company_id, metadata, n)) AS x`

// insertTargets inserts every target whose email is free, returning them by id.
func insertTargets(ctx context.Context, tx *Tx, targets []*target) (map[string]Contact, error) {
	args, err := targetArgs(tx, targets)
	if err != nil {
		return nil, err
	}
	res, err := tx.tx.Query(ctx, `
		INSERT INTO contacts (id, workspace_id, mode, email, first_name, last_name, phone, company_id, metadata)
		SELECT id, $1, $2, email, first_name, last_name, phone, company_id, metadata
		FROM `+unnestTargets+`
		ORDER BY n
		ON CONFLICT (workspace_id, mode, lower(email)) WHERE email IS NOT NULL DO NOTHING
		RETURNING `+Contacts.cols, args...)
	if err != nil {
		return nil, wrap("import contacts", classify(err))
	}
	got, err := Contacts.scan(res)
	if err != nil {
		return nil, wrap("import contacts", classify(err))
	}
	byID := make(map[string]Contact, len(got))
	for _, c := range got {
		byID[c.ID] = c
	}
	return byID, nil
}

// reportTaken marks the rows of targets whose email exists as Duplicate of its holder.
func reportTaken(ctx context.Context, tx *Tx, taken []*target, out []RowOutcome) error {
	emails := make([]string, len(taken))
	for i, t := range taken {
		emails[i] = t.email
	}
	res, err := tx.tx.Query(ctx, `SELECT lower(email), id FROM contacts
		WHERE workspace_id = $1 AND mode = $2 AND lower(email) = ANY($3) AND email IS NOT NULL`, tx.t.WorkspaceID, tx.t.Mode, emails)
	if err != nil {
		return wrap("import contacts", err)
	}
	holders := map[string]string{}
	var email, id string
	if _, err := pgx.ForEachRow(res, []any{&email, &id}, func() error { holders[email] = id; return nil }); err != nil {
		return wrap("import contacts", err)
	}
	for _, t := range taken {
		for _, i := range append(t.rows, t.dups...) {
			out[i] = RowOutcome{Duplicate: true, ExistingID: holders[t.email]}
		}
	}
	return nil
}

// updateTargets applies targets to the contacts that hold their emails, returning each
// contact before and after (the self-join reads the row as it was before the update).
func updateTargets(ctx context.Context, tx *Tx, taken []*target, out []RowOutcome) error {
	args, err := targetArgs(tx, taken)
	if err != nil {
		return err
	}
	res, err := tx.tx.Query(ctx, `
		UPDATE contacts c SET
			first_name = coalesce(x.first_name, c.first_name),
			last_name  = coalesce(x.last_name, c.last_name),
			phone      = coalesce(x.phone, c.phone),
			company_id = coalesce(x.company_id, c.company_id),
			metadata   = c.metadata || x.metadata,
			updated_at = clock_timestamp()
		FROM `+unnestTargets+`, contacts old
		WHERE c.workspace_id = $1 AND c.mode = $2 AND c.email IS NOT NULL AND lower(c.email) = lower(x.email)
		  AND old.id = c.id
		RETURNING `+prefixed("c", Contacts.cols)+`, x.n AS n, to_jsonb(old) AS old`, args...)
	if err != nil {
		return wrap("import contacts", classify(err))
	}
	type updated struct {
		Contact
		N   int             `db:"n"`
		Old json.RawMessage `db:"old"`
	}
	got, err := collect[updated](res)
	if err != nil {
		return wrap("import contacts", classify(err))
	}
	for _, u := range got {
		before, err := contactFromJSON(u.Old)
		if err != nil {
			return err
		}
		for _, i := range taken[u.N].rows {
			out[i] = RowOutcome{Contact: u.Contact, Before: &before}
		}
	}
	for _, t := range taken { // the holder vanished between the insert and the update
		if out[t.rows[0]].Contact.ID == "" {
			for _, i := range t.rows {
				out[i] = RowOutcome{Duplicate: true}
			}
		}
	}
	return nil
}

// contactFromJSON reads a contacts row encoded with to_jsonb.
func contactFromJSON(raw json.RawMessage) (Contact, error) {
	var r struct {
		ID        string           `json:"id"`
		Mode      string           `json:"mode"`
		Email     *string          `json:"email"`
		FirstName *string          `json:"first_name"`
		LastName  *string          `json:"last_name"`
		Phone     *string          `json:"phone"`
		CompanyID *string          `json:"company_id"`
		Metadata  map[string]any   `json:"metadata"`
		CreatedAt jsonTime         `json:"created_at"`
		UpdatedAt jsonTime         `json:"updated_at"`
		Version   int64            `json:"version"`
		Fields    map[string]int64 `json:"field_versions"`
	}
	if err := schemas.UnmarshalExact(raw, &r); err != nil {
		return Contact{}, err
	}
	return Contact{Record: Record{ID: r.ID, Mode: modeOf(r.Mode), Metadata: r.Metadata, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
		Version: r.Version, FieldVersions: r.Fields},
		Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Phone: r.Phone, CompanyID: r.CompanyID}, nil
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

// prefixed qualifies each column of a column list with table alias a.
func prefixed(a, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = a + "." + p
	}
	return strings.Join(parts, ", ")
}
