package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
)

// RecordKinds are the kinds of record (object values) that carry metadata, can be linked by
// associations and searched, in display order: every list of record kinds uses this one.
var RecordKinds = []string{"contact", "company", "deal", "activity"}

// Record holds the columns every tenant record has.
type Record struct {
	ID        string         `db:"id"`
	Mode      auth.Mode      `db:"mode"`
	Metadata  map[string]any `db:"metadata"`
	CreatedAt time.Time      `db:"created_at"`
	UpdatedAt time.Time      `db:"updated_at"`
	// Version is 1 when the record is created and one more after every change of its row
	// (migration 00016): what an optimistic-concurrency precondition compares.
	Version int64 `db:"version"`
	// FieldVersions maps each column changed since creation to the version that last changed it.
	FieldVersions map[string]int64 `db:"field_versions"`
}

// Position is the record's place in newest-first lists.
func (r Record) Position() Cursor { return Cursor{CreatedAt: r.CreatedAt, ID: r.ID} }

// Common returns the columns every record has.
func (r Record) Common() Record { return r }

// ChangedSince lists, sorted, the fields changed after version v (by versions v+1 on).
func (r Record) ChangedSince(v int64) []string {
	var fields []string
	for f, at := range r.FieldVersions {
		if at > v {
			fields = append(fields, f)
		}
	}
	slices.Sort(fields)
	return fields
}

// Contact is a person.
type Contact struct {
	Record
	Email     *string `db:"email"`
	FirstName *string `db:"first_name"`
	LastName  *string `db:"last_name"`
	Phone     *string `db:"phone"`
	CompanyID *string `db:"company_id"`
}

// Company is an organization.
type Company struct {
	Record
	Name   string  `db:"name"`
	Domain *string `db:"domain"`
}

// Deal is an opportunity in a pipeline stage.
type Deal struct {
	Record
	Title            string     `db:"title"`
	ValueCents       *int64     `db:"value_cents"`
	Currency         string     `db:"currency"`
	Pipeline         string     `db:"pipeline"`
	Stage            string     `db:"stage"`
	CloseDate        *time.Time `db:"close_date"`
	CompanyID        *string    `db:"company_id"`
	PrimaryContactID *string    `db:"primary_contact_id"`
}

// Activity is a note, email, call, meeting or task logged against records.
type Activity struct {
	Record
	Type       string    `db:"type"`
	Subject    *string   `db:"subject"`
	Body       *string   `db:"body"`
	ContactID  *string   `db:"contact_id"`
	DealID     *string   `db:"deal_id"`
	CompanyID  *string   `db:"company_id"`
	OccurredAt time.Time `db:"occurred_at"`
}

// ActivityTypes are the kinds of activity.
var ActivityTypes = []string{"note", "email", "call", "meeting", "task"}

var (
	timestamps = []filter.Field{
		{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
		{Name: "updated_at", Column: "updated_at", Kind: filter.Timestamp},
	}
	idField = filter.Field{Name: "id", Column: "id", Kind: filter.ID}
)

func spec(fields ...filter.Field) filter.Spec {
	return filter.Spec{Fields: append(append([]filter.Field{idField}, fields...), timestamps...), MetadataColumn: "metadata"}
}

// The record tables.
var (
	Contacts = newTable[Contact]("contacts", "contact", "con_", spec(
		filter.Field{Name: "email", Column: "email", Kind: filter.CIText},
		filter.Field{Name: "first_name", Column: "first_name", Kind: filter.Text},
		filter.Field{Name: "last_name", Column: "last_name", Kind: filter.Text},
		filter.Field{Name: "phone", Column: "phone", Kind: filter.Text},
		filter.Field{Name: "company_id", Column: "company_id", Kind: filter.ID},
	))
	Companies = newTable[Company]("companies", "company", "cmp_", spec(
		filter.Field{Name: "name", Column: "name", Kind: filter.Text},
		filter.Field{Name: "domain", Column: "domain", Kind: filter.CIText},
	))
	Deals = newTable[Deal]("deals", "deal", "deal_", spec(
		filter.Field{Name: "title", Column: "title", Kind: filter.Text},
		filter.Field{Name: "value_cents", Column: "value_cents", Kind: filter.Integer},
		filter.Field{Name: "currency", Column: "currency", Kind: filter.Text},
		filter.Field{Name: "pipeline", Column: "pipeline", Kind: filter.Text},
		filter.Field{Name: "stage", Column: "stage", Kind: filter.Text},
		filter.Field{Name: "close_date", Column: "close_date", Kind: filter.Date},
		filter.Field{Name: "company_id", Column: "company_id", Kind: filter.ID},
		filter.Field{Name: "primary_contact_id", Column: "primary_contact_id", Kind: filter.ID},
	))
	Activities = newTable[Activity]("activities", "activity", "act_", spec(
		filter.Field{Name: "type", Column: "type", Kind: filter.Enum, Values: ActivityTypes},
		filter.Field{Name: "subject", Column: "subject", Kind: filter.Text},
		filter.Field{Name: "contact_id", Column: "contact_id", Kind: filter.ID},
		filter.Field{Name: "deal_id", Column: "deal_id", Kind: filter.ID},
		filter.Field{Name: "company_id", Column: "company_id", Kind: filter.ID},
		filter.Field{Name: "occurred_at", Column: "occurred_at", Kind: filter.Timestamp},
	))
)

// jsonTime reads the timestamps to_jsonb writes (RFC 3339 with or without a zone).
type jsonTime struct{ time.Time }

func (j *jsonTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			j.Time = t
			return nil
		}
	}
	return fmt.Errorf("store: bad timestamp %q", s)
}

func modeOf(s string) auth.Mode { m, _ := auth.ParseMode(s); return m }

// activityLinks are the activity columns that link it to a record.
var activityLinks = []string{"contact_id", "deal_id", "company_id"}

// DeleteActivitiesOnlyAbout deletes the tenant's activities whose only link is column
// (contact_id, deal_id or company_id) = id, those a deletion of that record would leave
// linked to nothing, and returns them.
func DeleteActivitiesOnlyAbout(ctx context.Context, tx *Tx, column, id string) ([]Activity, error) {
	if !slices.Contains(activityLinks, column) {
		return nil, fmt.Errorf("store: %q is not an activity link (one of %v)", column, activityLinks)
	}
	cond := column + " = $3"
	for _, c := range activityLinks {
		if c != column {
			cond += " AND " + c + " IS NULL"
		}
	}
	return deleteWhere(ctx, tx, Activities, cond, id)
}
