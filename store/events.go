package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
)

// Event is one entry of the event log.
type Event struct {
	ID        string          `db:"id"`
	Mode      auth.Mode       `db:"mode"`
	Type      string          `db:"type"`
	Data      json.RawMessage `db:"data"`
	CreatedAt time.Time       `db:"created_at"`
}

// Position is the event's place in the newest-first log.
func (e Event) Position() Cursor { return Cursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// Events is the event log table.
var Events = newTable[Event]("events", "event", "evt_", filter.Spec{Fields: []filter.Field{
	idField,
	{Name: "type", Column: "type", Kind: filter.Text},
	{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
}})

// NewEvent is an event to record.
type NewEvent struct {
	Type string
	Data json.RawMessage
}

// RecordEvents appends events to the tenant's log, in order, in one statement, as part of
// the transaction making the change they describe.
func (tx *Tx) RecordEvents(ctx context.Context, evs ...NewEvent) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make([]string, len(evs))
	types := make([]string, len(evs))
	data := make([]string, len(evs))
	for i, e := range evs {
		ids[i], types[i], data[i] = NewID("evt_"), e.Type, string(e.Data)
	}
	// clock_timestamp() increases along the rows, so the log keeps the order given.
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO events (id, workspace_id, mode, type, data, created_at)
		SELECT id, $1, $2, type, data::jsonb, clock_timestamp()
		FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(id, type, data, n)
		ORDER BY n`, tx.t.WorkspaceID, tx.t.Mode, ids, types, data)
	return wrap("record events", err)
}
