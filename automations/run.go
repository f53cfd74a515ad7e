// Package automations runs automation rules: for each run an event started (store.RecordEvents
// makes one per rule and event), it tests the rule's conditions and performs its actions
// through the same capabilities the API calls, in one transaction with the run's outcome.
package automations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"github.com/riverqueue/river"
)

// Runner works the queue's automation runs.
type Runner struct {
	river.WorkerDefaults[store.RunJob]
	Store    *store.Store
	Registry *tools.Registry
	Log      *slog.Logger
}

// Register adds the runner's worker to a job queue client's workers.
func (r *Runner) Register(w *river.Workers) { river.AddWorker(w, river.Worker[store.RunJob](r)) }

// Timeout bounds one run: its actions (a send_email may wait on Resend) and its record.
func (r *Runner) Timeout(*river.Job[store.RunJob]) time.Duration { return time.Minute }

// errAction stops a run at a failed action; its changes roll back.
var errAction = errors.New("automations: an action failed")

// Work performs one run, exactly once: the run row is locked and must still be pending,
// and the actions' changes commit with its outcome in one transaction (a run retried after
// a crash finds it pending again only if nothing committed). A failing action rolls back
// the run's earlier changes and records error, with the failing action's index and reason;
// an email an earlier action sent stays sent (Resend cannot take it back; its
// Idempotency-Key, derived from the run and action, keeps a retry from sending it twice).
func (r *Runner) Work(ctx context.Context, job *river.Job[store.RunJob]) error {
	c := job.Args.Caller()
	return r.Store.InTx(ctx, c, func(tx *store.Tx) error {
		run, err := store.LockRun(ctx, tx, job.Args.RunID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // the rule was deleted with its runs
		}
		if err != nil || run.Status != store.RunPending {
			return err
		}
		rule, err := store.Get(ctx, tx, store.Automations, run.AutomationID)
		if err != nil {
			return err
		}
		ev, err := store.Get(ctx, tx, store.Events, run.EventID)
		if err != nil {
			return err
		}
		var conds []tools.Condition
		var actions []tools.Action
		var data map[string]any
		if err := errors.Join(schemas.UnmarshalExact(rule.Conditions, &conds), schemas.UnmarshalExact(rule.Actions, &actions),
			schemas.UnmarshalExact(ev.Data, &data)); err != nil {
			return fmt.Errorf("automations: run %s: %w", run.ID, err)
		}
		if ok, why := Matches(conds, data); !ok {
			_, err := store.FinishRun(ctx, tx, run.ID, store.RunSkipped, &why, nil, json.RawMessage("[]"))
			return err
		}
		actx := auth.WithCaller(tools.WithRequestID(ctx, run.ID), c)
		actx = store.WithActor(actx, store.Actor{AutomationID: rule.ID, RunID: run.ID, Depth: ev.Depth + 1})
		var results []tools.ActionResult
		var failed int
		var reason string
		err = r.Store.InTx(store.WithTx(actx, tx), c, func(sp *store.Tx) error {
			sctx := store.WithTx(actx, sp)
			for i, a := range actions {
				res, err := r.act(tools.WithIdempotencyKey(sctx, fmt.Sprintf("automation/%s/%d", run.ID, i)), a, ev.Type, data)
				if err != nil {
					failed, reason = i, err.Error()
					return errAction
				}
				results = append(results, res)
			}
			return nil
		})
		switch {
		case errors.Is(err, errAction):
			r.Log.InfoContext(ctx, "automation action failed", "automation", rule.ID, "run", run.ID, "action", failed, "reason", reason)
			_, err = store.FinishRun(ctx, tx, run.ID, store.RunError, &reason, &failed, json.RawMessage("[]"))
			return err
		case err != nil:
			return err
		}
		if results == nil {
			results = []tools.ActionResult{}
		}
		_, err = store.FinishRun(ctx, tx, run.ID, store.RunSuccess, nil, nil, tools.Encode(results))
		return err
	})
}

// act performs one action for an event of type evType with data, through a capability.
func (r *Runner) act(ctx context.Context, a tools.Action, evType string, data map[string]any) (tools.ActionResult, error) {
	refs := Context(evType, data)
	var tool string
	args := map[string]any{}
	switch a.Type {
	case "move_deal_stage":
		if refs["deal"] == "" {
			return tools.ActionResult{}, errors.New("move_deal_stage: the event has no deal in its context")
		}
		tool, args["id"], args["stage"] = "move_deal_stage", refs["deal"], a.Stage
		if a.Pipeline != "" {
			args["pipeline"] = a.Pipeline
		}
	case "create_activity":
		tool, args["type"] = "log_activity", a.ActivityType
		linked := false
		for kind, field := range map[string]string{"contact": "contact_id", "deal": "deal_id", "company": "company_id"} {
			if id := refs[kind]; id != "" {
				args[field], linked = id, true
			}
		}
		if !linked {
			return tools.ActionResult{}, errors.New("create_activity: the event has no contact, deal or company to log the activity against")
		}
		if a.Subject != "" {
			args["subject"] = a.Subject
		}
		if a.Body != "" {
			args["body"] = a.Body
		}
	case "set_metadata":
		target := a.Target
		if target == "" || target == "auto" {
			target = refs["self"]
		}
		if refs[target] == "" {
			return tools.ActionResult{}, fmt.Errorf("set_metadata: the event has no %s in its context", orRecord(target))
		}
		tool, args["id"], args["metadata"] = "update_"+target, refs[target], map[string]any{a.Key: a.Value.V}
	case "send_email":
		tool, args["to"], args["subject"] = "send_email", []string(a.To), a.Subject
		for k, v := range map[string]string{"html": a.HTML, "text": a.Text, "from": a.From} {
			if v != "" {
				args[k] = v
			}
		}
	default:
		return tools.ActionResult{}, fmt.Errorf("unknown action type %q", a.Type)
	}
	entry, ok := r.Registry.Lookup(tool)
	if !ok {
		return tools.ActionResult{}, fmt.Errorf("automations: no capability %s", tool)
	}
	decoded, derr := tools.DecodeArgs(tools.Encode(args))
	if derr != nil {
		return tools.ActionResult{}, fmt.Errorf("%s: %s", a.Type, derr.Message)
	}
	out, cerr := entry.Call(ctx, decoded)
	if cerr != nil {
		return tools.ActionResult{}, fmt.Errorf("%s: %s (%s)", a.Type, cerr.Message, cerr.Code)
	}
	var rec struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	_ = json.Unmarshal(tools.Encode(out), &rec)
	return tools.ActionResult{Action: a.Type, Object: rec.Object, ID: rec.ID}, nil
}

func orRecord(kind string) string {
	if kind == "" {
		return "record set_metadata can change"
	}
	return kind
}
