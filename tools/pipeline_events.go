package tools

import (
	"context"

	"github.com/relmcrm/relm/store"
)

// target is what a change is about: a pipeline, or one of its stages. Its events come first.
type target struct{ pipeline, stage string }

// change runs fn on the tenant's pipelines, locked, and records in the same transaction an
// event for every pipeline and stage it created, changed (positions shifted included) or
// deleted: the target's first. It returns the pipelines as they are afterwards.
func (h pipelineHandlers) change(ctx context.Context, fn func(tx *store.Tx, cur []store.Pipeline) (target, error)) ([]store.Pipeline, error) {
	var after []store.Pipeline
	err := inTx(ctx, h.s, func(tx *store.Tx) error {
		before, err := store.LockPipelines(ctx, tx)
		if err != nil {
			return err
		}
		t, err := fn(tx, before)
		if err != nil {
			return err
		}
		if after, err = store.ListPipelines(ctx, tx); err != nil {
			return err
		}
		evs, err := pipelineEvents(before, after, t)
		if err != nil {
			return err
		}
		return tx.RecordEvents(ctx, evs...)
	})
	return after, err
}

// pipelineEvents compares the pipelines before and after a change: pipeline.* and
// pipeline_stage.* events, created|updated|deleted, the target's first.
func pipelineEvents(before, after []store.Pipeline, t target) ([]store.NewEvent, error) {
	var first, rest []store.NewEvent
	add := func(isTarget bool, ev store.NewEvent) {
		if isTarget {
			first = append(first, ev)
		} else {
			rest = append(rest, ev)
		}
	}
	old := map[string]store.Pipeline{}
	for _, p := range before {
		old[p.Key] = p
	}
	now := map[string]bool{}
	for _, p := range after {
		now[p.Key] = true
		isTarget := p.Key == t.pipeline
		out := pipelineOut(p)
		b, existed := old[p.Key]
		if !existed {
			add(isTarget, event("pipeline.created", out, nil))
		} else {
			prev, err := changed(withoutStages(pipelineOut(b)), withoutStages(out))
			if err != nil {
				return nil, err
			}
			if len(prev) > 0 {
				add(isTarget && t.stage == "", event("pipeline.updated", out, prev))
			}
		}
		evs, err := stageEvents(b.Stages, p.Stages, t)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			add(isTarget && (t.stage == "" || ev.target), ev.NewEvent)
		}
	}
	for _, b := range before {
		if now[b.Key] {
			continue
		}
		isTarget := b.Key == t.pipeline
		for _, s := range b.Stages {
			add(isTarget, event("pipeline_stage.deleted", stageOut(s), nil))
		}
		add(isTarget, event("pipeline.deleted", pipelineOut(b), nil))
	}
	return append(first, rest...), nil
}

type stageEvent struct {
	store.NewEvent
	target bool
}

// stageEvents compares a pipeline's stages before and after a change.
func stageEvents(before, after []store.PipelineStage, t target) ([]stageEvent, error) {
	var evs []stageEvent
	old := map[string]store.PipelineStage{}
	for _, s := range before {
		old[s.Key] = s
	}
	now := map[string]bool{}
	for _, s := range after {
		now[s.Key] = true
		isTarget := s.Key == t.stage
		b, existed := old[s.Key]
		if !existed {
			evs = append(evs, stageEvent{event("pipeline_stage.created", stageOut(s), nil), isTarget})
			continue
		}
		prev, err := changed(stageOut(b), stageOut(s))
		if err != nil {
			return nil, err
		}
		if len(prev) > 0 {
			evs = append(evs, stageEvent{event("pipeline_stage.updated", stageOut(s), prev), isTarget})
		}
	}
	for _, b := range before {
		if !now[b.Key] {
			evs = append(evs, stageEvent{event("pipeline_stage.deleted", stageOut(b), nil), b.Key == t.stage})
		}
	}
	// The target's event first.
	for i, ev := range evs {
		if ev.target && i > 0 {
			evs = append([]stageEvent{ev}, append(evs[:i:i], evs[i+1:]...)...)
			break
		}
	}
	return evs, nil
}

func withoutStages(p Pipeline) Pipeline {
	p.Stages = nil
	return p
}
