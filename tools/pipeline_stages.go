package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relmcrm/relm/store"
)

// PipelineStage is one step of a pipeline.
type PipelineStage struct {
	Object    string    `json:"object" enum:"pipeline_stage" doc:"Always \"pipeline_stage\"."`
	Pipeline  string    `json:"pipeline" doc:"Key of the pipeline the stage belongs to."`
	Key       string    `json:"key" doc:"The stage's key, unique within its pipeline, such as qualified: deals name it in stage. Keys never change."`
	Label     string    `json:"label" doc:"Display name."`
	Position  int       `json:"position" doc:"Place in the pipeline's order, from 0; deals created without stage go to the stage at 0."`
	IsWon     bool      `json:"is_won" doc:"Whether a deal in this stage is won."`
	IsLost    bool      `json:"is_lost" doc:"Whether a deal in this stage is lost (never together with is_won)."`
	Mode      string    `json:"mode" enum:"live,test"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PipelineStageList is every stage of a pipeline, in order.
type PipelineStageList struct {
	Object     string          `json:"object" enum:"list" doc:"Always \"list\"."`
	Data       []PipelineStage `json:"data" doc:"The stages of this page, in position order."`
	HasMore    bool            `json:"has_more" doc:"Whether another page follows (only with a limit below the number of stages)."`
	NextCursor *string         `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// DeletedPipelineStage confirms a stage's deletion.
type DeletedPipelineStage struct {
	Object   string `json:"object" enum:"pipeline_stage" doc:"Always \"pipeline_stage\"."`
	Pipeline string `json:"pipeline" doc:"Key of the stage's pipeline."`
	Key      string `json:"key" doc:"Key of the deleted stage."`
	Deleted  bool   `json:"deleted" doc:"Always true."`
}

// PipelineStagesInput names a pipeline whose stages to list.
type PipelineStagesInput struct {
	Pipeline string `json:"pipeline,omitempty" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the pipeline; default: the default pipeline."`
	WholeListPage
}

// CreatePipelineStageInput is the body of create_pipeline_stage.
type CreatePipelineStageInput struct {
	Pipeline string `json:"pipeline,omitempty" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the pipeline to add the stage to; default: the default pipeline."`
	Key      string `json:"key" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Stage key: a lowercase letter, then up to 49 lowercase letters, digits or underscores (demo_booked). Unique in the pipeline; immutable."`
	Label    string `json:"label" minLength:"1" maxLength:"100" doc:"Display name, such as \"Demo booked\"."`
	Position *int   `json:"position,omitempty" minimum:"0" maximum:"10000" doc:"Place in the pipeline, from 0 (later stages move down one); default and beyond the end: last."`
	IsWon    bool   `json:"is_won,omitempty" doc:"Deals in this stage are won."`
	IsLost   bool   `json:"is_lost,omitempty" doc:"Deals in this stage are lost (not together with is_won)."`
}

// UpdatePipelineStageInput changes only the fields present.
type UpdatePipelineStageInput struct {
	Pipeline string  `json:"pipeline,omitempty" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the stage's pipeline; default: the default pipeline."`
	Stage    string  `json:"stage" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the stage to change (keys cannot change)."`
	Label    *string `json:"label,omitempty" minLength:"1" maxLength:"100" doc:"New display name."`
	Position *int    `json:"position,omitempty" minimum:"0" maximum:"10000" doc:"New place in the pipeline, from 0 (the other stages shift to make room); beyond the end: last."`
	IsWon    *bool   `json:"is_won,omitempty" doc:"Whether deals in this stage are won."`
	IsLost   *bool   `json:"is_lost,omitempty" doc:"Whether deals in this stage are lost. A stage cannot be both: to turn a won stage into a lost one, send is_won: false too."`
}

// PipelineStageKeyInput names one stage.
type PipelineStageKeyInput struct {
	Pipeline string `json:"pipeline,omitempty" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the stage's pipeline; default: the default pipeline."`
	Stage    string `json:"stage" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the stage."`
}

func stageOut(s store.PipelineStage) PipelineStage {
	return PipelineStage{Object: "pipeline_stage", Pipeline: s.Pipeline, Key: s.Key, Label: s.Label, Position: s.Position,
		IsWon: s.IsWon, IsLost: s.IsLost, Mode: string(s.Mode), CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// findPipelineStage finds pipeline's stage among cur, or says which one is unknown.
func findPipelineStage(cur []store.Pipeline, pipeline, stage string) (store.Pipeline, store.PipelineStage, error) {
	p, err := findPipeline(cur, pipeline)
	if err != nil {
		return p, store.PipelineStage{}, err
	}
	s, err := findStage(p, stage)
	return p, s, err
}

// findStage returns the stage keyed key of p.
func findStage(p store.Pipeline, key string) (store.PipelineStage, error) {
	keys := []string{}
	for _, s := range p.Stages {
		if s.Key == key {
			return s, nil
		}
		keys = append(keys, s.Key)
	}
	e := NewError(CodeNotFound, "Pipeline %q has no stage %q. Use one of valid_options, or create it with create_pipeline_stage.", p.Key, key)
	e.Param, e.ValidOptions, e.Suggestion = "stage", keys, closest(key, keys)
	return store.PipelineStage{}, e
}

func (h pipelineHandlers) listStages(ctx context.Context, in PipelineStagesInput) (PipelineStageList, error) {
	out := PipelineStageList{Object: "list"}
	var all []PipelineStage
	err := h.read(ctx, func(cur []store.Pipeline) error {
		p, err := findPipeline(cur, in.Pipeline)
		for _, s := range p.Stages {
			all = append(all, stageOut(s))
		}
		return err
	})
	if err != nil {
		return out, err
	}
	out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(s PipelineStage) string { return s.Key })
	return out, err
}

func (h pipelineHandlers) createStage(ctx context.Context, in CreatePipelineStageInput) (PipelineStage, error) {
	if in.IsWon && in.IsLost {
		return PipelineStage{}, wonAndLost("is_lost")
	}
	var t target
	after, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		p, err := findPipeline(cur, in.Pipeline)
		if err != nil {
			return t, err
		}
		if _, err := findStage(p, in.Key); err == nil {
			return t, stageKeyTaken(p.Key, in.Key)
		}
		if len(p.Stages) >= maxStages {
			return t, tooMany(fmt.Sprintf("stages in pipeline %q", p.Key), maxStages)
		}
		err = store.InsertStage(ctx, tx, p.Key, store.NewStage{Key: in.Key, Label: in.Label,
			Position: clampPosition(in.Position, len(p.Stages)), IsWon: in.IsWon, IsLost: in.IsLost})
		if errors.Is(err, store.ErrKeyTaken) {
			return t, stageKeyTaken(p.Key, in.Key)
		}
		t = target{pipeline: p.Key, stage: in.Key}
		return t, err
	})
	if err != nil {
		return PipelineStage{}, err
	}
	return stageIn(after, t)
}

func (h pipelineHandlers) updateStage(ctx context.Context, in UpdatePipelineStageInput) (PipelineStage, error) {
	var t target
	after, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		p, s, err := findPipelineStage(cur, in.Pipeline, in.Stage)
		if err != nil {
			return t, err
		}
		set := map[string]any{}
		if in.Label != nil {
			set["label"] = *in.Label
		}
		won, lost := s.IsWon, s.IsLost
		if in.IsWon != nil {
			won, set["is_won"] = *in.IsWon, *in.IsWon
		}
		if in.IsLost != nil {
			lost, set["is_lost"] = *in.IsLost, *in.IsLost
		}
		if won && lost {
			field := "is_lost"
			if in.IsLost == nil || !*in.IsLost {
				field = "is_won"
			}
			return t, wonAndLost(field)
		}
		if err := store.SetStage(ctx, tx, p.Key, s.Key, set); err != nil {
			return t, err
		}
		if in.Position != nil {
			if err := store.MoveStage(ctx, tx, p.Key, s.Key, s.Position, clampPosition(in.Position, len(p.Stages)-1)); err != nil {
				return t, err
			}
		}
		t = target{pipeline: p.Key, stage: s.Key}
		return t, nil
	})
	if err != nil {
		return PipelineStage{}, err
	}
	return stageIn(after, t)
}

func (h pipelineHandlers) deleteStage(ctx context.Context, in PipelineStageKeyInput) (DeletedPipelineStage, error) {
	var t target
	_, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		p, s, err := findPipelineStage(cur, in.Pipeline, in.Stage)
		if err != nil {
			return t, err
		}
		n, err := store.CountDeals(ctx, tx, p.Key, s.Key)
		if err != nil {
			return t, err
		}
		if n > 0 {
			return t, stageInUse(p.Key, s.Key, n)
		}
		err = store.DeleteStage(ctx, tx, p.Key, s.Key)
		if errors.Is(err, store.ErrInUse) {
			return t, stageInUse(p.Key, s.Key, 0)
		}
		t = target{pipeline: p.Key, stage: s.Key}
		return t, err
	})
	if err != nil {
		return DeletedPipelineStage{}, err
	}
	return DeletedPipelineStage{Object: "pipeline_stage", Pipeline: t.pipeline, Key: t.stage, Deleted: true}, nil
}

// stageIn returns the stage t of the pipelines after a change.
func stageIn(after []store.Pipeline, t target) (PipelineStage, error) {
	p, err := findPipeline(after, t.pipeline)
	if err != nil {
		return PipelineStage{}, err
	}
	s, err := findStage(p, t.stage)
	return stageOut(s), err
}
