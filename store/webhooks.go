package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
	"github.com/riverqueue/river"
)

// WebhookEndpoint is a URL that receives a tenant's events.
type WebhookEndpoint struct {
	ID                      string     `db:"id"`
	Mode                    auth.Mode  `db:"mode"`
	URL                     string     `db:"url"`
	Events                  []string   `db:"events"` // event types, or "*" for all
	Description             *string    `db:"description"`
	Enabled                 bool       `db:"enabled"`
	DisabledReason          *string    `db:"disabled_reason"` // why Relm disabled it (a 410 answer)
	Secret                  string     `db:"secret"`
	PreviousSecret          *string    `db:"previous_secret"` // still signing until PreviousSecretExpiresAt
	PreviousSecretExpiresAt *time.Time `db:"previous_secret_expires_at"`
	CreatedAt               time.Time  `db:"created_at"`
	UpdatedAt               time.Time  `db:"updated_at"`
}

// Position is the endpoint's place in the newest-first list.
func (w WebhookEndpoint) Position() Cursor { return Cursor{CreatedAt: w.CreatedAt, ID: w.ID} }

// SigningSecrets are the secrets a delivery at now is signed with: the current one, then
// the one it replaced while its overlap lasts.
func (w WebhookEndpoint) SigningSecrets(now time.Time) []string {
	secrets := []string{w.Secret}
	if w.PreviousSecret != nil && w.PreviousSecretExpiresAt != nil && now.Before(*w.PreviousSecretExpiresAt) {
		secrets = append(secrets, *w.PreviousSecret)
	}
	return secrets
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID            string     `db:"id"`
	Mode          auth.Mode  `db:"mode"`
	EndpointID    string     `db:"endpoint_id"`
	EventID       string     `db:"event_id"`
	EventType     string     `db:"event_type"`
	Status        string     `db:"status"` // pending, retrying, succeeded or failed
	AttemptCount  int        `db:"attempt_count"`
	NextAttemptAt *time.Time `db:"next_attempt_at"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
}

// Position is the delivery's place in the newest-first list.
func (d WebhookDelivery) Position() Cursor { return Cursor{CreatedAt: d.CreatedAt, ID: d.ID} }

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryRetrying  = "retrying"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// DeliveryStatuses lists the statuses of a delivery.
var DeliveryStatuses = []string{DeliveryPending, DeliveryRetrying, DeliverySucceeded, DeliveryFailed}

// The webhook tables.
var (
	WebhookEndpoints = triggering(newTable[WebhookEndpoint]("webhook_endpoints", "webhook_endpoint", "whep_", filter.Spec{Fields: append([]filter.Field{
		idField,
		{Name: "url", Column: "url", Kind: filter.Text},
		{Name: "enabled", Column: "enabled", Kind: filter.Bool},
	}, timestamps...)}))
	WebhookDeliveries = newTable[WebhookDelivery]("webhook_deliveries", "webhook_delivery", "whdl_", filter.Spec{Fields: append([]filter.Field{
		idField,
		{Name: "endpoint_id", Column: "endpoint_id", Kind: filter.ID},
		{Name: "event_id", Column: "event_id", Kind: filter.ID},
		{Name: "event_type", Column: "event_type", Kind: filter.Text},
		{Name: "status", Column: "status", Kind: filter.Enum, Values: DeliveryStatuses},
	}, timestamps...)})
)

// MaxWebhookEndpoints is how many endpoints a workspace may have in each mode: every event
// is sent to each of them, so the cap bounds the deliveries one write can cause.
const MaxWebhookEndpoints = 20

// ErrTooManyEndpoints means the tenant already has MaxWebhookEndpoints endpoints.
var ErrTooManyEndpoints = errors.New("store: too many webhook endpoints")

// InsertWebhookEndpoint creates an endpoint for the tenant, or is ErrTooManyEndpoints.
// Concurrent creations for one tenant take turns, so the cap holds exactly.
func InsertWebhookEndpoint(ctx context.Context, tx *Tx, v Values) (WebhookEndpoint, error) {
	_, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('relm.webhook_endpoints/' || $1::text || '/' || $2::text, 0))`,
		tx.t.WorkspaceID, string(tx.t.Mode))
	var n int
	if err == nil {
		err = tx.tx.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE workspace_id = $1 AND mode = $2`,
			tx.t.WorkspaceID, tx.t.Mode).Scan(&n)
	}
	if err != nil {
		return WebhookEndpoint{}, wrap("count webhook endpoints", err)
	}
	if n >= MaxWebhookEndpoints {
		return WebhookEndpoint{}, ErrTooManyEndpoints
	}
	return Insert(ctx, tx, WebhookEndpoints, v)
}

// WebhookAttempt is one try at sending a delivery.
type WebhookAttempt struct {
	DeliveryID   string    `db:"delivery_id"`
	Number       int       `db:"number"`
	StatusCode   *int      `db:"status_code"` // nil when no response came
	LatencyMS    int       `db:"latency_ms"`
	ResponseBody *string   `db:"response_body"` // the first 1 KiB
	Error        *string   `db:"error"`         // why no response came, or why it failed
	CreatedAt    time.Time `db:"created_at"`
}

// WebhookAttempts returns the attempts of the tenant's deliveries, oldest first per delivery.
func WebhookAttempts(ctx context.Context, tx *Tx, deliveryIDs []string) (map[string][]WebhookAttempt, error) {
	rows, err := tx.tx.Query(ctx, `SELECT delivery_id, number, status_code, latency_ms, response_body, error, created_at
		FROM webhook_attempts WHERE workspace_id = $1 AND mode = $2 AND delivery_id = ANY($3)
		ORDER BY delivery_id, number`, tx.t.WorkspaceID, tx.t.Mode, deliveryIDs)
	if err != nil {
		return nil, wrap("webhook attempts", err)
	}
	got, err := collect[WebhookAttempt](rows)
	if err != nil {
		return nil, wrap("webhook attempts", err)
	}
	out := map[string][]WebhookAttempt{}
	for _, a := range got {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}

// RecordWebhookAttempt stores attempt a of the tenant's delivery and moves the delivery to
// status, with its next attempt at next (nil: none planned), returning the delivery.
func RecordWebhookAttempt(ctx context.Context, tx *Tx, a WebhookAttempt, status string, next *time.Time) (WebhookDelivery, error) {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO webhook_attempts (workspace_id, mode, delivery_id, number, status_code, latency_ms, response_body, error)
		SELECT $1, $2, $3, attempt_count + 1, $4, $5, $6, $7 FROM webhook_deliveries
		WHERE workspace_id = $1 AND mode = $2 AND id = $3`,
		tx.t.WorkspaceID, tx.t.Mode, a.DeliveryID, a.StatusCode, a.LatencyMS, a.ResponseBody, a.Error)
	b.Queue(`UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, status = $4, next_attempt_at = $5,
		updated_at = clock_timestamp() WHERE workspace_id = $1 AND mode = $2 AND id = $3 RETURNING `+WebhookDeliveries.cols,
		tx.t.WorkspaceID, tx.t.Mode, a.DeliveryID, status, next)
	br := tx.tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return WebhookDelivery{}, wrap("record webhook attempt", err)
	}
	rows, err := br.Query()
	if err != nil {
		return WebhookDelivery{}, wrap("record webhook attempt", err)
	}
	got, err := collect[WebhookDelivery](rows)
	if err != nil {
		return WebhookDelivery{}, wrap("record webhook attempt", err)
	}
	if len(got) == 0 {
		return WebhookDelivery{}, ErrNotFound
	}
	return got[0], nil
}

// SetDeliveryStatus moves the tenant's delivery to status without an attempt (a delivery
// whose endpoint was disabled fails; a replay makes it pending).
func SetDeliveryStatus(ctx context.Context, tx *Tx, id, status string, next *time.Time) error {
	_, err := tx.tx.Exec(ctx, `UPDATE webhook_deliveries SET status = $4, next_attempt_at = $5, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND id = $3`, tx.t.WorkspaceID, tx.t.Mode, id, status, next)
	return wrap("set delivery status", err)
}

// DisableWebhookEndpoint turns the tenant's endpoint off, saying why.
func DisableWebhookEndpoint(ctx context.Context, tx *Tx, id, reason string) error {
	_, err := tx.tx.Exec(ctx, `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $4, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND id = $3`, tx.t.WorkspaceID, tx.t.Mode, id, reason)
	return wrap("disable webhook endpoint", err)
}

// DeliveryJob is the queued work of one attempt at sending one delivery.
type DeliveryJob struct {
	DeliveryID string `json:"delivery_id"`
	JobTenant
	// Replay marks one extra attempt asked for by the endpoint's owner: it schedules no
	// retry of its own.
	Replay bool `json:"replay,omitempty"`
}

// Kind names the job in the queue.
func (DeliveryJob) Kind() string { return "webhook_delivery" }

// DeliveryQueue is the queue delivery jobs go to.
const DeliveryQueue = "webhooks"

// EnqueueDeliveries queues a job for an attempt of each of the tenant's deliveries ids, in
// tx, to run at at (zero: now). A replay is one extra attempt that schedules no retry.
func (tx *Tx) EnqueueDeliveries(ctx context.Context, ids []string, at time.Time, replay bool) error {
	jobs := make([]river.JobArgs, len(ids))
	for i, id := range ids {
		jobs[i] = DeliveryJob{DeliveryID: id, JobTenant: tx.jobTenant(), Replay: replay}
	}
	return tx.enqueue(ctx, "deliveries", jobs, river.InsertOpts{Queue: DeliveryQueue, ScheduledAt: at})
}

// DeliveryWork is everything a delivery job needs: the delivery, its endpoint and event.
type DeliveryWork struct {
	Delivery WebhookDelivery
	Endpoint WebhookEndpoint
	Event    Event
}

// LoadDeliveryWork reads the tenant's delivery id with its endpoint and event, in one
// query; ErrNotFound when the delivery is gone (its endpoint was deleted).
func LoadDeliveryWork(ctx context.Context, tx *Tx, id string) (DeliveryWork, error) {
	var w DeliveryWork
	d, ep, ev := &w.Delivery, &w.Endpoint, &w.Event
	err := tx.tx.QueryRow(ctx, `
		SELECT d.id, d.mode, d.endpoint_id, d.event_id, d.event_type, d.status, d.attempt_count, d.next_attempt_at, d.created_at, d.updated_at,
			w.id, w.mode, w.url, w.events, w.description, w.enabled, w.disabled_reason, w.secret, w.previous_secret,
			w.previous_secret_expires_at, w.created_at, w.updated_at,
			e.id, e.mode, e.type, e.data, e.depth, e.caused_by, e.request_id, e.created_at
		FROM webhook_deliveries d
		JOIN webhook_endpoints w ON w.workspace_id = d.workspace_id AND w.mode = d.mode AND w.id = d.endpoint_id
		JOIN events e ON e.workspace_id = d.workspace_id AND e.mode = d.mode AND e.id = d.event_id
		WHERE d.workspace_id = $1 AND d.mode = $2 AND d.id = $3`, tx.t.WorkspaceID, tx.t.Mode, id).Scan(
		&d.ID, &d.Mode, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.AttemptCount, &d.NextAttemptAt, &d.CreatedAt, &d.UpdatedAt,
		&ep.ID, &ep.Mode, &ep.URL, &ep.Events, &ep.Description, &ep.Enabled, &ep.DisabledReason, &ep.Secret, &ep.PreviousSecret,
		&ep.PreviousSecretExpiresAt, &ep.CreatedAt, &ep.UpdatedAt,
		&ev.ID, &ev.Mode, &ev.Type, &ev.Data, &ev.Depth, &ev.CausedBy, &ev.RequestID, &ev.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, ErrNotFound
	}
	return w, wrap("load delivery", err)
}
