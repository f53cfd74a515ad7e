package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
	"github.com/riverqueue/river"
)

// MaxDepth is the depth at which events trigger no automation: a change made through the
// API records events of depth 0, a change made by a run for an event of depth n records
// events of depth n+1.
const MaxDepth = 2

// LoopGuardReason is why a run is skipped at MaxDepth.
const LoopGuardReason = "loop guard: the event was caused by automations two levels deep, so it triggers no further automation"

// Actor is the automation run a change is made by.
type Actor struct {
	AutomationID, RunID string
	Depth               int // the depth of the events the run records
}

type actorKey struct{}

// WithActor returns ctx in which recorded events are attributed to a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the automation run ctx acts for, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// Automation is a rule that runs actions when events fire.
type Automation struct {
	ID           string          `db:"id"`
	Mode         auth.Mode       `db:"mode"`
	Name         string          `db:"name"`
	TriggerEvent string          `db:"trigger_event"`
	Enabled      bool            `db:"enabled"`
	Conditions   json.RawMessage `db:"conditions"`
	Actions      json.RawMessage `db:"actions"`
	CreatedAt    time.Time       `db:"created_at"`
	UpdatedAt    time.Time       `db:"updated_at"`
}

// Position is the rule's place in the newest-first list.
func (a Automation) Position() Cursor { return Cursor{CreatedAt: a.CreatedAt, ID: a.ID} }

// AutomationRun is one rule acting, or not, on one event.
type AutomationRun struct {
	ID           string          `db:"id"`
	Mode         auth.Mode       `db:"mode"`
	AutomationID string          `db:"automation_id"`
	EventID      string          `db:"event_id"`
	EventType    string          `db:"event_type"`
	Status       string          `db:"status"` // pending, success, error or skipped
	Reason       *string         `db:"reason"`
	FailedAction *int            `db:"failed_action"`
	Results      json.RawMessage `db:"results"`
	CreatedAt    time.Time       `db:"created_at"`
	UpdatedAt    time.Time       `db:"updated_at"`
}

// Position is the run's place in the newest-first list.
func (r AutomationRun) Position() Cursor { return Cursor{CreatedAt: r.CreatedAt, ID: r.ID} }

// Run statuses.
const (
	RunPending = "pending"
	RunSuccess = "success"
	RunError   = "error"
	RunSkipped = "skipped"
)

// The automation tables.
var (
	Automations = triggering(newTable[Automation]("automations", "automation", "auto_", filter.Spec{Fields: append([]filter.Field{
		idField,
		{Name: "name", Column: "name", Kind: filter.Text},
		{Name: "trigger_event", Column: "trigger_event", Kind: filter.Text},
		{Name: "enabled", Column: "enabled", Kind: filter.Bool},
	}, timestamps...)}))
	AutomationRuns = newTable[AutomationRun]("automation_runs", "automation_run", "arun_", filter.Spec{Fields: append([]filter.Field{
		idField,
		{Name: "automation_id", Column: "automation_id", Kind: filter.ID},
		{Name: "event_id", Column: "event_id", Kind: filter.ID},
		{Name: "status", Column: "status", Kind: filter.Enum, Values: []string{RunPending, RunSuccess, RunError, RunSkipped}},
	}, timestamps...)})
)

// FinishRun records how the tenant's run id ended, if it is still pending; it reports
// whether it was (a run is finished once).
func FinishRun(ctx context.Context, tx *Tx, id, status string, reason *string, failedAction *int, results json.RawMessage) (bool, error) {
	tag, err := tx.tx.Exec(ctx, `UPDATE automation_runs SET status = $4, reason = $5, failed_action = $6, results = $7,
		updated_at = clock_timestamp() WHERE workspace_id = $1 AND mode = $2 AND id = $3 AND status = 'pending'`,
		tx.t.WorkspaceID, tx.t.Mode, id, status, reason, failedAction, results)
	if err != nil {
		return false, wrap("finish run", err)
	}
	return tag.RowsAffected() == 1, nil
}

// LockRun locks the tenant's run id until the transaction ends and returns it.
func LockRun(ctx context.Context, tx *Tx, id string) (AutomationRun, error) {
	return lockRow(ctx, tx, AutomationRuns, id)
}

// RunJob is the queued work of one automation run.
type RunJob struct {
	RunID string `json:"run_id"`
	JobTenant
}

// Kind names the job in the queue.
func (RunJob) Kind() string { return "automation_run" }

// AutomationQueue is the queue run jobs go to.
const AutomationQueue = "automations"

// EnqueueRuns queues a job for each of the tenant's runs ids, in tx.
func (tx *Tx) EnqueueRuns(ctx context.Context, ids []string) error {
	jobs := make([]river.JobArgs, len(ids))
	for i, id := range ids {
		jobs[i] = RunJob{RunID: id, JobTenant: tx.jobTenant()}
	}
	return tx.enqueue(ctx, "runs", jobs, river.InsertOpts{Queue: AutomationQueue, MaxAttempts: 10})
}
