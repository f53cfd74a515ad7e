package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// Bounds that keep the unpaginated pipeline and stage lists small.
const (
	maxPipelines = 100 // per workspace and mode
	maxStages    = 100 // per pipeline
)

// Pipeline is a sales process: the ordered stages a deal moves through.
type Pipeline struct {
	Object    string          `json:"object" enum:"pipeline" doc:"Always \"pipeline\"."`
	Key       string          `json:"key" doc:"The pipeline's key, unique in the workspace and mode, such as sales: deals name it in pipeline. Keys never change."`
	Label     string          `json:"label" doc:"Display name."`
	Position  int             `json:"position" doc:"Place in the order of pipelines, from 0."`
	IsDefault bool            `json:"is_default" doc:"Whether this is the default pipeline, where deals created without pipeline go. Exactly one pipeline is."`
	Stages    []PipelineStage `json:"stages" doc:"The pipeline's stages, in order."`
	Mode      string          `json:"mode" enum:"live,test"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PipelineList is every pipeline of the workspace and mode, in order.
type PipelineList struct {
	Object     string     `json:"object" enum:"list" doc:"Always \"list\"."`
	Data       []Pipeline `json:"data" doc:"The pipelines of this page, in position order."`
	HasMore    bool       `json:"has_more" doc:"Whether another page follows (only with a limit below the number of pipelines)."`
	NextCursor *string    `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// ListPipelinesInput pages the pipelines.
type ListPipelinesInput struct {
	WholeListPage
}

// DeletedPipeline confirms a pipeline's deletion.
type DeletedPipeline struct {
	Object  string `json:"object" enum:"pipeline" doc:"Always \"pipeline\"."`
	Key     string `json:"key" doc:"Key of the deleted pipeline."`
	Deleted bool   `json:"deleted" doc:"Always true."`
}

// PipelineKeyInput names one pipeline.
type PipelineKeyInput struct {
	Pipeline string `json:"pipeline" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the pipeline, such as sales."`
}

// NewPipelineStageInput is one stage of a pipeline being created.
type NewPipelineStageInput struct {
	Key    string `json:"key" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Stage key: a lowercase letter, then up to 49 lowercase letters, digits or underscores (demo_booked). Immutable."`
	Label  string `json:"label" minLength:"1" maxLength:"100" doc:"Display name, such as \"Demo booked\"."`
	IsWon  bool   `json:"is_won,omitempty" doc:"Deals in this stage are won."`
	IsLost bool   `json:"is_lost,omitempty" doc:"Deals in this stage are lost (not together with is_won)."`
}

// CreatePipelineInput is the body of create_pipeline.
type CreatePipelineInput struct {
	Key       string                  `json:"key" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Pipeline key: a lowercase letter, then up to 49 lowercase letters, digits or underscores (partners). Unique in the workspace; immutable."`
	Label     string                  `json:"label" minLength:"1" maxLength:"100" doc:"Display name, such as \"Partners\"."`
	Position  *int                    `json:"position,omitempty" minimum:"0" maximum:"10000" doc:"Place among the pipelines, from 0 (later ones move down one); default and beyond the end: last."`
	IsDefault bool                    `json:"is_default,omitempty" doc:"Make it the default pipeline; the previous default stops being one."`
	Stages    []NewPipelineStageInput `json:"stages,omitempty" maxItems:"100" doc:"Its stages, in order (more can be added with create_pipeline_stage). A pipeline needs a stage before deals can go in it."`
}

// UpdatePipelineInput changes only the fields present.
type UpdatePipelineInput struct {
	Pipeline  string  `json:"pipeline" pattern:"^[a-z][a-z0-9_]{0,49}$" doc:"Key of the pipeline to change (keys cannot change)."`
	Label     *string `json:"label,omitempty" minLength:"1" maxLength:"100" doc:"New display name."`
	Position  *int    `json:"position,omitempty" minimum:"0" maximum:"10000" doc:"New place among the pipelines, from 0 (the others shift to make room); beyond the end: last."`
	IsDefault *bool   `json:"is_default,omitempty" doc:"true makes it the default pipeline and the previous default stops being one. The default cannot be set to false: make another pipeline the default instead."`
}

type pipelineHandlers struct{ s *store.Store }

func pipelineTools(s *store.Store) []Tool {
	h := pipelineHandlers{s: s}
	read := Annotations{ReadOnly: true, Idempotent: true}
	change := Annotations{Destructive: true, Idempotent: true}
	return []Tool{
		&Capability[ListPipelinesInput, PipelineList]{Info: Info{
			Name: "list_pipelines", Title: "List pipelines", Toolset: "pipelines",
			Description: "List the workspace's pipelines in order, each with its stages in order. Use it to find the pipeline " +
				"and stage keys that deals take (create_deal, move_deal_stage). Returns {data, has_more, next_cursor}: every " +
				"pipeline unless limit is smaller (then page with cursor); the " +
				"pipeline with is_default: true is where deals go when no pipeline is given.",
			Annotations: read,
			REST:        &Route{Method: http.MethodGet, Path: "/v1/pipelines", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[CreatePipelineInput, Pipeline]{Info: Info{
			Name: "create_pipeline", Title: "Create pipeline", Toolset: "pipelines",
			Description: "Create a pipeline: key (lowercase identifier such as partners, unique, immutable) and label are " +
				"required; position (default last), is_default (makes it the default instead of the current one) and " +
				"stages (in order: [{key, label, is_won?, is_lost?}]) are optional. A taken key fails with already_exists. " +
				"Returns the pipeline with its stages.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/pipelines", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[PipelineKeyInput, Pipeline]{Info: Info{
			Name: "get_pipeline", Title: "Get pipeline", Toolset: "pipelines",
			Description: "Fetch one pipeline by key (such as sales). Returns the pipeline with its stages in order.",
			Annotations: read,
			REST:        &Route{Method: http.MethodGet, Path: "/v1/pipelines/{pipeline}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdatePipelineInput, Pipeline]{Info: Info{
			Name: "update_pipeline", Title: "Update pipeline", Toolset: "pipelines",
			Description: "Change a pipeline's label, position (the others shift) or make it the default with is_default: true " +
				"(the previous default stops being one). Keys cannot change, and the default cannot be unset except by " +
				"making another pipeline the default. Returns the updated pipeline.",
			Annotations: change,
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/pipelines/{pipeline}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[PipelineKeyInput, DeletedPipeline]{Info: Info{
			Name: "delete_pipeline", Title: "Delete pipeline", Toolset: "pipelines",
			Description: "Permanently delete a pipeline and its stages. Fails with cannot_delete_default for the default " +
				"pipeline and with pipeline_in_use while deals are in it (move them with move_deal_stage first). " +
				"Returns {object, key, deleted: true}.",
			Annotations: change,
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/pipelines/{pipeline}", Status: http.StatusOK},
		}, Handle: h.delete},
		&Capability[PipelineStagesInput, PipelineStageList]{Info: Info{
			Name: "list_pipeline_stages", Title: "List pipeline stages", Toolset: "pipelines",
			Description: "List the stages of a pipeline in order (omit pipeline for the default one), with their keys and " +
				"whether they are won or lost stages. Returns {data, has_more, next_cursor}: every stage unless limit is smaller " +
				"(then page with cursor).",
			Annotations: read,
			REST:        &Route{Method: http.MethodGet, Path: "/v1/pipelines/{pipeline}/stages", Status: http.StatusOK},
			Aliases:     []Route{{Method: http.MethodGet, Path: "/v1/pipeline/stages", Status: http.StatusOK}},
		}, Handle: h.listStages},
		&Capability[CreatePipelineStageInput, PipelineStage]{Info: Info{
			Name: "create_pipeline_stage", Title: "Create pipeline stage", Toolset: "pipelines",
			Description: "Add a stage to a pipeline (omit pipeline for the default one): key (lowercase identifier such as " +
				"demo_booked, unique in the pipeline, immutable) and label are required; position (default last; later " +
				"stages move down one), is_won or is_lost are optional. A taken key fails with already_exists. Returns the stage.",
			REST:    &Route{Method: http.MethodPost, Path: "/v1/pipelines/{pipeline}/stages", Status: http.StatusCreated},
			Aliases: []Route{{Method: http.MethodPost, Path: "/v1/pipeline/stages", Status: http.StatusCreated}},
		}, Handle: h.createStage},
		&Capability[UpdatePipelineStageInput, PipelineStage]{Info: Info{
			Name: "update_pipeline_stage", Title: "Update pipeline stage", Toolset: "pipelines",
			Description: "Change a stage's label, position (the other stages shift), is_won or is_lost (omit pipeline for " +
				"the default one). Keys cannot change, and a stage cannot be both won and lost. Returns the updated stage.",
			Annotations: change,
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/pipelines/{pipeline}/stages/{stage}", Status: http.StatusOK},
			Aliases:     []Route{{Method: http.MethodPatch, Path: "/v1/pipeline/stages/{stage}", Status: http.StatusOK}},
		}, Handle: h.updateStage},
		&Capability[PipelineStageKeyInput, DeletedPipelineStage]{Info: Info{
			Name: "delete_pipeline_stage", Title: "Delete pipeline stage", Toolset: "pipelines",
			Description: "Permanently delete a stage (omit pipeline for the default one); the later stages move up one. " +
				"Fails with stage_in_use while deals are in it (move them with move_deal_stage first). " +
				"Returns {object, pipeline, key, deleted: true}.",
			Annotations: change,
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/pipelines/{pipeline}/stages/{stage}", Status: http.StatusOK},
			Aliases:     []Route{{Method: http.MethodDelete, Path: "/v1/pipeline/stages/{stage}", Status: http.StatusOK}},
		}, Handle: h.deleteStage},
	}
}

func pipelineOut(p store.Pipeline) Pipeline {
	out := Pipeline{Object: "pipeline", Key: p.Key, Label: p.Label, Position: p.Position, IsDefault: p.IsDefault,
		Stages: make([]PipelineStage, len(p.Stages)), Mode: string(p.Mode), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
	for i, s := range p.Stages {
		out.Stages[i] = stageOut(s)
	}
	return out
}

// read runs fn on the tenant's pipelines.
func (h pipelineHandlers) read(ctx context.Context, fn func(cur []store.Pipeline) error) error {
	return inTx(ctx, h.s, func(tx *store.Tx) error {
		cur, err := store.ListPipelines(ctx, tx)
		if err != nil {
			return err
		}
		return fn(cur)
	})
}

// findPipeline returns the pipeline keyed key, or the default one for "".
func findPipeline(cur []store.Pipeline, key string) (store.Pipeline, error) {
	var keys []string
	for _, p := range cur {
		if p.Key == key || (key == "" && p.IsDefault) {
			return p, nil
		}
		keys = append(keys, p.Key)
	}
	e := NewError(CodeNotFound, "No pipeline %q exists in this workspace and mode. Use one of valid_options, or create it with create_pipeline.", key)
	e.Param, e.ValidOptions, e.Suggestion = "pipeline", keys, closest(key, keys)
	return store.Pipeline{}, e
}

// clampPosition keeps a requested position within 0..last; nil means last.
func clampPosition(p *int, last int) int {
	if p == nil {
		return last
	}
	return min(*p, last)
}

func (h pipelineHandlers) list(ctx context.Context, in ListPipelinesInput) (PipelineList, error) {
	out := PipelineList{Object: "list"}
	var all []Pipeline
	err := h.read(ctx, func(cur []store.Pipeline) error {
		for _, p := range cur {
			all = append(all, pipelineOut(p))
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(p Pipeline) string { return p.Key })
	return out, err
}

func (h pipelineHandlers) get(ctx context.Context, in PipelineKeyInput) (Pipeline, error) {
	var out Pipeline
	err := h.read(ctx, func(cur []store.Pipeline) error {
		p, err := findPipeline(cur, in.Pipeline)
		out = pipelineOut(p)
		return err
	})
	return out, err
}

func (h pipelineHandlers) create(ctx context.Context, in CreatePipelineInput) (Pipeline, error) {
	var bad []schemas.FieldError
	seen := map[string]int{}
	for i, s := range in.Stages {
		if j, dup := seen[s.Key]; dup {
			bad = append(bad, schemas.FieldError{Field: fmt.Sprintf("stages.%d.key", i), Message: fmt.Sprintf("repeats the key of stages.%d", j)})
		}
		seen[s.Key] = i
		if s.IsWon && s.IsLost {
			bad = append(bad, wonAndLost(fmt.Sprintf("stages.%d.is_lost", i)).Details...)
		}
	}
	if bad != nil {
		return Pipeline{}, ValidationFailed(bad)
	}
	after, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		if _, err := findPipeline(cur, in.Key); err == nil {
			return target{}, pipelineKeyTaken(in.Key)
		}
		if len(cur) >= maxPipelines {
			return target{}, tooMany("pipelines in this workspace and mode", maxPipelines)
		}
		if in.IsDefault {
			if err := store.UnsetDefaultPipeline(ctx, tx, in.Key); err != nil {
				return target{}, err
			}
		}
		err := store.InsertPipeline(ctx, tx, store.NewPipeline{Key: in.Key, Label: in.Label,
			Position: clampPosition(in.Position, len(cur)), IsDefault: in.IsDefault})
		if errors.Is(err, store.ErrKeyTaken) {
			return target{}, pipelineKeyTaken(in.Key)
		}
		if err != nil {
			return target{}, err
		}
		for i, s := range in.Stages {
			ns := store.NewStage{Key: s.Key, Label: s.Label, Position: i, IsWon: s.IsWon, IsLost: s.IsLost}
			if err := store.InsertStage(ctx, tx, in.Key, ns); err != nil {
				return target{}, err
			}
		}
		return target{pipeline: in.Key}, nil
	})
	if err != nil {
		return Pipeline{}, err
	}
	p, err := findPipeline(after, in.Key)
	return pipelineOut(p), err
}

func (h pipelineHandlers) update(ctx context.Context, in UpdatePipelineInput) (Pipeline, error) {
	after, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		p, err := findPipeline(cur, in.Pipeline)
		if err != nil {
			return target{}, err
		}
		set := map[string]any{}
		if in.Label != nil {
			set["label"] = *in.Label
		}
		if in.IsDefault != nil && *in.IsDefault != p.IsDefault {
			if !*in.IsDefault {
				e := NewError(CodeValidationFailed, "Pipeline %q is the default pipeline, and there is always one. To change the default, "+
					"set is_default: true on the pipeline that should become the default.", p.Key)
				e.Param = "is_default"
				return target{}, e
			}
			if err := store.UnsetDefaultPipeline(ctx, tx, p.Key); err != nil {
				return target{}, err
			}
			set["is_default"] = true
		}
		if err := store.SetPipeline(ctx, tx, p.Key, set); err != nil {
			return target{}, err
		}
		if in.Position != nil {
			if err := store.MovePipeline(ctx, tx, p.Key, p.Position, clampPosition(in.Position, len(cur)-1)); err != nil {
				return target{}, err
			}
		}
		return target{pipeline: p.Key}, nil
	})
	if err != nil {
		return Pipeline{}, err
	}
	p, err := findPipeline(after, in.Pipeline)
	return pipelineOut(p), err
}

func (h pipelineHandlers) delete(ctx context.Context, in PipelineKeyInput) (DeletedPipeline, error) {
	_, err := h.change(ctx, func(tx *store.Tx, cur []store.Pipeline) (target, error) {
		p, err := findPipeline(cur, in.Pipeline)
		if err != nil {
			return target{}, err
		}
		if p.IsDefault {
			e := NewError(CodeCannotDeleteDefault, "Pipeline %q is the default pipeline and cannot be deleted. Make another pipeline "+
				"the default first (update_pipeline with is_default: true), then delete this one.", p.Key)
			e.Param = "pipeline"
			return target{}, e
		}
		n, err := store.CountDeals(ctx, tx, p.Key, "")
		if err != nil {
			return target{}, err
		}
		if n > 0 {
			return target{}, pipelineInUse(p.Key, n)
		}
		err = store.DeletePipeline(ctx, tx, p.Key)
		if errors.Is(err, store.ErrInUse) {
			return target{}, pipelineInUse(p.Key, 0)
		}
		return target{pipeline: p.Key}, err
	})
	if err != nil {
		return DeletedPipeline{}, err
	}
	return DeletedPipeline{Object: "pipeline", Key: in.Pipeline, Deleted: true}, nil
}
