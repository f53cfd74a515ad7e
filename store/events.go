package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
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

// RecordEvents appends events to the tenant's log, in order, as part of the transaction
// making the change they describe. Many events go in with one COPY; created_at comes from
// the column default (clock_timestamp()), evaluated row by row, so the log keeps their order.
func (tx *Tx) RecordEvents(ctx context.Context, evs ...NewEvent) error {
	if len(evs) == 0 {
		return nil
	}
	rows := make([][]any, len(evs))
	for i, e := range evs {
		rows[i] = []any{NewID("evt_"), tx.t.WorkspaceID, string(tx.t.Mode), e.Type, e.Data}
	}
	_, err := tx.tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"id", "workspace_id", "mode", "type", "data"}, pgx.CopyFromRows(rows))
	return wrap("record events", err)
}
