package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
)

// TestScanMatchesPgx: a table's rows scan into the same structs, and fail with the same
// errors, as pgx.RowToStructByName makes of them, whatever columns a query returns.
func TestScanMatchesPgx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, callers := tenants(t)
	c := callers[0]
	err := s.InTx(ctx, c, func(tx *store.Tx) error {
		cmp, err := store.Insert(ctx, tx, store.Companies, store.Values{"name": "Acme", "domain": "acme.test",
			"metadata": map[string]any{"big": json.Number("12345678901234567890"), "nested": map[string]any{"a": []any{1.5, "x"}}}})
		if err != nil {
			return err
		}
		con, err := store.Insert(ctx, tx, store.Contacts, store.Values{"email": "ada@example.com", "first_name": "Ada", "company_id": cmp.ID})
		if err != nil {
			return err
		}
		deal, err := store.Insert(ctx, tx, store.Deals, store.Values{"title": "Renewal", "value_cents": 1200, "currency": "EUR", "pipeline": "sales", "stage": "lead",
			"close_date": time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), "company_id": cmp.ID, "primary_contact_id": con.ID})
		if err != nil {
			return err
		}
		if _, err := store.Insert(ctx, tx, store.Activities, store.Values{"type": "call", "subject": "hi", "contact_id": con.ID,
			"deal_id": deal.ID, "occurred_at": time.Now()}); err != nil {
			return err
		}
		label := "champion"
		_, err = store.Insert(ctx, tx, store.Associations, store.Values{"from_type": "contact", "from_id": con.ID,
			"to_type": "deal", "to_id": deal.ID, "label": &label})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		checkScan(t, tx, store.Contacts)
		checkScan(t, tx, store.Companies)
		checkScan(t, tx, store.Deals)
		checkScan(t, tx, store.Activities)
		checkScan(t, tx, store.Associations)
		checkScan(t, tx, store.Events)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkScan compares tb's scan with pgx's over tb's columns, the columns in another
// order, and columns that do not fit R.
func checkScan[R interface{ Position() store.Cursor }](t *testing.T, tx *store.Tx, tb *store.Table[R]) {
	t.Helper()
	ctx := context.Background()
	if !store.PlannedForTest(tb) {
		t.Errorf("%s: rows of its columns do not scan by plan", tb.Name)
	}
	cols := strings.Split(tb.Columns(), ", ")
	reversed := make([]string, len(cols))
	for i, col := range cols {
		reversed[len(cols)-1-i] = col
	}
	for _, sel := range []string{
		tb.Columns(),
		strings.Join(reversed, ", "),
		tb.Columns() + ", 1 AS extra",
		strings.Join(cols[1:], ", "),
		strings.ToUpper(cols[0]) + ` AS "` + strings.ToUpper(cols[0]) + `", ` + strings.Join(cols[1:], ", "),
	} {
		sql := `SELECT ` + sel + ` FROM ` + tb.Name + ` ORDER BY 1`
		sameAsPgx(t, tx, tb, sql)
		rows, err := tx.Raw().Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := pgx.CollectRows(rows, pgx.RowToStructByName[R])
		if wantErr == nil && len(want) == 0 {
			t.Errorf("%s: no rows to compare", tb.Name)
		}
		if rows, err = tx.Raw().Query(ctx, sql); err != nil {
			t.Fatal(err)
		}
		page, _, pageErr := store.ScanWithinForTest(tb, rows, store.PageBytes)
		if errText(pageErr) != errText(wantErr) || wantErr == nil && !reflect.DeepEqual(page, want) {
			t.Errorf("%s: %s: page %+v, %v", tb.Name, sel, page, pageErr)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// planned has what pgx's by-name scan handles beyond the record tables: an ignored and an
// unexported field, and nested embedded structs.
type planned struct {
	inner
	Skipped string `db:"-"`
	hidden  string
	Score   int `db:"score"`
}

type inner struct {
	deeper
	Label string `db:"label"`
}

type deeper struct {
	ID string `db:"id"`
}

func (p planned) Position() store.Cursor { return store.Cursor{ID: p.ID + p.hidden} }

// untagged has a field without a db tag, which pgx matches ignoring case and underscores
// but which is not one of the table's columns: rows of those columns never fit it.
type untagged struct {
	planned
	FirstName string
}

// TestScanPlanFollowsPgx: a struct's plan matches columns to fields as pgx does.
func TestScanPlanFollowsPgx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, callers := tenants(t)
	tb := store.NewTableForTest[planned]("planned")
	if got := tb.Columns(); got != "id, label, score" || !store.PlannedForTest(tb) {
		t.Fatalf("columns %q, planned %v", got, store.PlannedForTest(tb))
	}
	tbUntagged := store.NewTableForTest[untagged]("untagged")
	if got := tbUntagged.Columns(); got != "id, label, score" || store.PlannedForTest(tbUntagged) {
		t.Fatalf("untagged: columns %q, planned %v", got, store.PlannedForTest(tbUntagged))
	}
	err := s.Read(ctx, callers[0], func(tx *store.Tx) error {
		for _, sql := range []string{
			`SELECT 'a' AS id, 'l' AS label, 7 AS score`,
			`SELECT 'a' AS id, 'l' AS label, 'Ada' AS first_name, 7 AS score`,
			`SELECT 7 AS score, 'Ada' AS "FIRSTNAME", 'a' AS id, 'l' AS "LABEL"`,
			`SELECT 'a' AS id, 'l' AS label`,
		} {
			sameAsPgx(t, tx, tb, sql)
			sameAsPgx(t, tx, tbUntagged, sql)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sameAsPgx checks that tb scans the rows of sql as pgx.RowToStructByName does.
func sameAsPgx[R interface{ Position() store.Cursor }](t *testing.T, tx *store.Tx, tb *store.Table[R], sql string) {
	t.Helper()
	ctx := context.Background()
	rows, err := tx.Raw().Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	got, gotErr := store.ScanForTest(tb, rows)
	if rows, err = tx.Raw().Query(ctx, sql); err != nil {
		t.Fatal(err)
	}
	want, wantErr := pgx.CollectRows(rows, pgx.RowToStructByName[R])
	if errText(gotErr) != errText(wantErr) || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %s:\ngot  %+v, %v\nwant %+v, %v", tb.Name, sql, got, gotErr, want, wantErr)
	}
}
