package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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

// PipelineStageList is every stage of a pipeline, in order.
type PipelineStageList struct {
	Object     string          `json:"object" enum:"list" doc:"Always \"list\"."`
	Data       []PipelineStage `json:"data" doc:"The stages of this page, in position order."`
	HasMore    bool            `json:"has_more" doc:"Whether another page follows (only with a limit below the number of stages)."`
	NextCursor *string         `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// DeletedPipeline confirms a pipeline's deletion.
type DeletedPipeline struct {
	Object  string `json:"object" enum:"pipeline" doc:"Always \"pipeline\"."`
	Key     string `json:"key" doc:"Key of the deleted pipeline."`
	Deleted bool   `json:"deleted" doc:"Always true."`
}

// DeletedPipelineStage confirms a stage's deletion.
type DeletedPipelineStage struct {
	Object   string `json:"object" enum:"pipeline_stage" doc:"Always \"pipeline_stage\"."`
	Pipeline string `json:"pipeline" doc:"Key of the stage's pipeline."`
	Key      string `json:"key" doc:"Key of the deleted stage."`
	Deleted  bool   `json:"deleted" doc:"Always true."`
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

func stageOut(s store.PipelineStage) PipelineStage {
	return PipelineStage{Object: "pipeline_stage", Pipeline: s.Pipeline, Key: s.Key, Label: s.Label, Position: s.Position,
		IsWon: s.IsWon, IsLost: s.IsLost, Mode: string(s.Mode), CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
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

// clampPosition keeps a requested position within 0..last; nil means last.
func clampPosition(p *int, last int) int {
	if p == nil {
		return last
	}
	return min(*p, last)
}

func pipelineKeyTaken(key string) *Error {
	e := NewError(CodeAlreadyExists, "A pipeline with key %q already exists in this workspace and mode. Choose another key, or change that pipeline with update_pipeline.", key)
	e.Param, e.ExistingID = "key", key
	return e
}

func stageKeyTaken(pipeline, key string) *Error {
	e := NewError(CodeAlreadyExists, "Pipeline %q already has a stage with key %q. Choose another key, or change that stage with update_pipeline_stage.", pipeline, key)
	e.Param, e.ExistingID = "key", key
	return e
}

func stageInUse(pipeline, stage string, n int) *Error {
	e := NewError(CodeStageInUse, "%s still in stage %q of pipeline %q. Move them to another stage with move_deal_stage (or delete them), then delete the stage.",
		dealCount(n), stage, pipeline)
	e.Param = "stage"
	return e
}

func pipelineInUse(pipeline string, n int) *Error {
	e := NewError(CodePipelineInUse, "%s still in pipeline %q. Move them to another pipeline with move_deal_stage (or delete them), then delete the pipeline.",
		dealCount(n), pipeline)
	e.Param = "pipeline"
	return e
}

func dealCount(n int) string {
	switch n {
	case 0: // only the database saw it: a deal moved in meanwhile
		return "Deals are"
	case 1:
		return "1 deal is"
	}
	return fmt.Sprintf("%d deals are", n)
}

// wonAndLost refuses a stage that would be both won and lost, naming field (is_won or
// is_lost, possibly under stages.N.).
func wonAndLost(field string) *Error {
	other := "is_won"
	if strings.HasSuffix(field, "is_won") {
		other = "is_lost"
	}
	return ValidationFailed([]schemas.FieldError{{Field: field, Message: "cannot be true while " + other +
		" is true: a stage is won or lost, not both (to switch a stage between won and lost, send " + other + ": false as well)"}})
}

func tooMany(what string, limit int) *Error {
	return NewError(CodeValidationFailed, "There are already %d %s, the most allowed. Delete one first.", limit, what)
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
		p, err := findPipeline(cur, in.Pipeline)
		if err != nil {
			return t, err
		}
		s, err := findStage(p, in.Stage)
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
		p, err := findPipeline(cur, in.Pipeline)
		if err != nil {
			return t, err
		}
		s, err := findStage(p, in.Stage)
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
