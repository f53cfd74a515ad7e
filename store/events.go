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
	Depth     int             `db:"depth"`      // 0 through the API; n+1 when made by an automation acting on an event of depth n
	CausedBy  json.RawMessage `db:"caused_by"`  // {automation_id, run_id} when an automation made the change; null otherwise
	RequestID *string         `db:"request_id"` // the request that made the change (WithRequestID); null for automations' changes
	CreatedAt time.Time       `db:"created_at"`
}

// Position is the event's place in the newest-first log.
func (e Event) Position() Cursor { return Cursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// Events is the event log table.
var Events = newTable[Event]("events", "event", "evt_", filter.Spec{Fields: []filter.Field{
	idField,
	{Name: "type", Column: "type", Kind: filter.Text},
	{Name: "request_id", Column: "request_id", Kind: filter.Text},
	{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
}})

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves: the events recorded
// under it name that request, so that undo_request can find them.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request ctx serves, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// EventsOfRequest returns the events the tenant's request requestID recorded, newest first
// (at most limit of them).
func EventsOfRequest(ctx context.Context, tx *Tx, requestID string, limit int) ([]Event, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+Events.cols+` FROM events
		WHERE workspace_id = $1 AND mode = $2 AND request_id = $3
		ORDER BY created_at DESC, id DESC LIMIT $4`, tx.t.WorkspaceID, tx.t.Mode, requestID, limit)
	if err != nil {
		return nil, wrap("events of request", err)
	}
	got, err := Events.scan(rows)
	return got, wrap("events of request", err)
}

// TriggeredBy lists the tenant's webhook endpoints that have a delivery of one of the
// events ids, and the automations that have a pending run of one: what those events set
// off (RecordEvents made both).
func TriggeredBy(ctx context.Context, tx *Tx, ids []string) (endpoints, automations []string, err error) {
	endpoints, automations = []string{}, []string{}
	rows, err := tx.tx.Query(ctx, `
		SELECT 'endpoint', endpoint_id FROM (SELECT DISTINCT endpoint_id FROM webhook_deliveries
			WHERE workspace_id = $1 AND mode = $2 AND event_id = ANY ($3)) d
		UNION ALL
		SELECT 'automation', automation_id FROM (SELECT DISTINCT automation_id FROM automation_runs
			WHERE workspace_id = $1 AND mode = $2 AND event_id = ANY ($3) AND status = 'pending') r
		ORDER BY 1, 2`, tx.t.WorkspaceID, tx.t.Mode, ids)
	if err != nil {
		return nil, nil, wrap("triggered by", err)
	}
	var kind, id string
	_, err = pgx.ForEachRow(rows, []any{&kind, &id}, func() error {
		if kind == "endpoint" {
			endpoints = append(endpoints, id)
		} else {
			automations = append(automations, id)
		}
		return nil
	})
	return endpoints, automations, wrap("triggered by", err)
}

// NewEvent is an event to record.
type NewEvent struct {
	ID   string // chosen by the caller when it must know it before recording; new when empty
	Type string
	Data json.RawMessage
}

// RecordEvents appends events to the tenant's log, in order, as part of the transaction
// making the change they describe, and creates a delivery for each event and each of the
// tenant's enabled webhook endpoints subscribed to its type, and a run for each event and
// each enabled automation it triggers, whose jobs it queues in the same transaction: an
// event is delivered and acted on if and only if it commits, once per endpoint and rule (a
// run is unique per rule and event). Events made by an automation's run (ActorFrom) carry
// its depth and cause; at MaxDepth they trigger no rule: the runs they would have started
// are recorded as skipped.
//
// Many events go in with one statement over arrays (COPY FROM is refused on tables with
// row-level security); created_at comes from the column default (clock_timestamp()),
// evaluated row by row in array order, so the log keeps theirs.
//
// Which endpoints and automations there are is known from the check InTx sends with BEGIN
// (triggersSQL). Most tenants have neither: their events' statement then waits to go out
// with the transaction's next statement or its COMMIT, so a write that ends with its
// events takes no round trip of its own for them. Otherwise (or when the transaction has
// written an endpoint or automation itself) a second statement, in the same round trip,
// creates the deliveries and runs. So an event goes to the endpoints and automations
// enabled when its transaction began, and to those enabled since when the tenant had any
// then.
func (tx *Tx) RecordEvents(ctx context.Context, evs ...NewEvent) error {
	if len(evs) == 0 {
		return nil
	}
	ids, types, data := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
	for i, e := range evs {
		ids[i], types[i], data[i] = e.ID, e.Type, string(e.Data)
		if e.ID == "" {
			ids[i] = NewID(Events.Prefix)
		}
	}
	actor, automated := ActorFrom(ctx)
	depth := 0
	var causedBy, requestID any
	if id := RequestID(ctx); id != "" {
		requestID = id
	}
	if automated {
		depth = actor.Depth
		causedBy = map[string]string{"automation_id": actor.AutomationID, "run_id": actor.RunID}
	}
	insert := []any{tx.t.WorkspaceID, tx.t.Mode, ids, types, data, depth, causedBy, requestID}
	if w := rootTx(tx.tx); w != nil && w.quiet {
		w.deferExec(insertEventsSQL, insert...)
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(insertEventsSQL, insert...)
	b.Queue(triggerEventsSQL, tx.t.WorkspaceID, tx.t.Mode, ids, depth, LoopGuardReason, MaxDepth)
	br := tx.tx.SendBatch(ctx, b)
	_, err := br.Exec()
	var deliveries, runs []string
	if err == nil {
		deliveries, runs, err = triggered(br.Query())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return wrap("record events", err)
	}
	if err := tx.EnqueueDeliveries(ctx, deliveries, time.Time{}, false); err != nil {
		return err
	}
	return tx.EnqueueRuns(ctx, runs)
}

// triggersChanged tells the transaction it wrote a webhook endpoint or automation: its
// events from now on look for them.
func (tx *Tx) triggersChanged() {
	if w := rootTx(tx.tx); w != nil {
		w.quiet = false
	}
}

// insertEventsSQL inserts events, in order.
const insertEventsSQL = `
	INSERT INTO events (id, workspace_id, mode, type, data, depth, caused_by, request_id)
	SELECT e.id, $1, $2, e.type, e.data::jsonb, $6, $7, $8
	FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e (id, type, data, n)
	ORDER BY e.n`

// triggerEventsSQL creates the deliveries and runs of the events ids, just inserted: the
// kind and id of each delivery, and of each run to start (not skipped).
const triggerEventsSQL = `
	WITH ev AS (
		SELECT id, type, created_at FROM events WHERE workspace_id = $1 AND mode = $2 AND id = ANY ($3::text[])
	), dl AS (
		INSERT INTO webhook_deliveries (id, workspace_id, mode, endpoint_id, event_id, event_type)
		SELECT relm_random_id('whdl_'), $1, $2, w.id, ev.id, ev.type
		FROM ev JOIN webhook_endpoints w ON w.workspace_id = $1 AND w.mode = $2 AND w.enabled
			AND (ev.type = ANY (w.events) OR '*' = ANY (w.events))
		ORDER BY ev.created_at, ev.id, w.id
		RETURNING id
	), ar AS (
		INSERT INTO automation_runs (id, workspace_id, mode, automation_id, event_id, event_type, status, reason)
		SELECT relm_random_id('arun_'), $1, $2, a.id, ev.id, ev.type,
			CASE WHEN $4::int >= $6::int THEN 'skipped' ELSE 'pending' END,
			CASE WHEN $4::int >= $6::int THEN $5::text END
		FROM ev JOIN automations a ON a.workspace_id = $1 AND a.mode = $2 AND a.enabled
			AND (a.trigger_event IN ('*', ev.type)
				OR (a.trigger_event LIKE '%.*' AND split_part(ev.type, '.', 1) || '.*' = a.trigger_event))
		ORDER BY ev.created_at, ev.id, a.id
		RETURNING id, status
	)
	SELECT 'delivery', id FROM dl UNION ALL SELECT 'run', id FROM ar WHERE status = 'pending'`

// triggered reads triggerEventsSQL's rows: the deliveries and the runs to queue.
func triggered(rows pgx.Rows, err error) (deliveries, runs []string, _ error) {
	if err != nil {
		return nil, nil, err
	}
	var kind, id string
	_, err = pgx.ForEachRow(rows, []any{&kind, &id}, func() error {
		if kind == "run" {
			runs = append(runs, id)
		} else {
			deliveries = append(deliveries, id)
		}
		return nil
	})
	return deliveries, runs, err
}
