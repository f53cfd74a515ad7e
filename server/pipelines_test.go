package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

var defaultStages = []string{"lead", "qualified", "proposal", "won", "lost"}

// stageKeys lists the stages of a pipeline in order ("" is the default pipeline, through
// the alias route), checking that their positions are exactly 0..n-1.
func (e *env) stageKeys(key, pipeline string) []string {
	e.t.Helper()
	path := "/v1/pipeline/stages"
	if pipeline != "" {
		path = "/v1/pipelines/" + pipeline + "/stages"
	}
	r := e.call("GET", path, key, nil).must(e.t, http.StatusOK)
	if r.Body["object"] != "list" || r.Body["has_more"] != false || r.Body["next_cursor"] != nil {
		e.t.Fatalf("stage list envelope: %s", r.Raw)
	}
	keys := []string{}
	for i, d := range r.Body["data"].([]any) {
		s := d.(map[string]any)
		if s["position"] != float64(i) || s["object"] != "pipeline_stage" {
			e.t.Fatalf("stage %d of %s: %v (positions must be 0..n-1): %s", i, pipeline, s, r.Raw)
		}
		keys = append(keys, s["key"].(string))
	}
	return keys
}

// pipelineKeys lists the pipelines in order, checking positions are 0..n-1 and that exactly
// one is the default, which it returns.
func (e *env) pipelineKeys(key string) (keys []string, def string) {
	e.t.Helper()
	r := e.call("GET", "/v1/pipelines", key, nil).must(e.t, http.StatusOK)
	defaults := 0
	for i, d := range r.Body["data"].([]any) {
		p := d.(map[string]any)
		if p["position"] != float64(i) || p["object"] != "pipeline" {
			e.t.Fatalf("pipeline %d: %v (positions must be 0..n-1)", i, p)
		}
		if p["is_default"] == true {
			defaults++
			def = p["key"].(string)
		}
		keys = append(keys, p["key"].(string))
	}
	if defaults != 1 {
		e.t.Fatalf("%d default pipelines: %s", defaults, r.Raw)
	}
	return keys, def
}

// eventsAfter returns the full events recorded after the first n, oldest first.
func (e *env) eventsAfter(key string, n int) []map[string]any {
	e.t.Helper()
	r := e.call("GET", "/v1/events?limit=200", key, nil).must(e.t, http.StatusOK)
	data := r.Body["data"].([]any)
	var out []map[string]any
	for i := len(data) - 1 - n; i >= 0; i-- {
		out = append(out, data[i].(map[string]any))
	}
	return out
}

func eventTypes(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev["type"].(string))
	}
	return out
}

func dataOf(ev map[string]any) (object, prev map[string]any) {
	d := ev["data"].(map[string]any)
	object, _ = d["object"].(map[string]any)
	prev, _ = d["previous_attributes"].(map[string]any)
	return object, prev
}

func newPartners(e *env, key string, extra map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"key": "partners", "label": "Partners", "stages": []any{
		map[string]any{"key": "intro", "label": "Intro"},
		map[string]any{"key": "negotiation", "label": "Negotiation"},
		map[string]any{"key": "signed", "label": "Signed", "is_won": true},
	}}
	for k, v := range extra {
		body[k] = v
	}
	return e.call("POST", "/v1/pipelines", key, body).must(e.t, http.StatusCreated).Body
}

func TestPipelinesREST(t *testing.T) {
	t.Parallel()
	e := setup(t)
	keys, def := e.pipelineKeys(e.Live)
	if !slices.Equal(keys, []string{"sales"}) || def != "sales" {
		t.Fatalf("seeded pipelines %v, default %s", keys, def)
	}
	sales := e.call("GET", "/v1/pipelines/sales", e.Live, nil).must(t, http.StatusOK).Body
	if sales["label"] != "Sales" || sales["mode"] != "live" || len(sales["stages"].([]any)) != 5 {
		t.Fatalf("sales: %v", sales)
	}
	won := sales["stages"].([]any)[3].(map[string]any)
	lost := sales["stages"].([]any)[4].(map[string]any)
	if won["key"] != "won" || won["is_won"] != true || won["is_lost"] != false || lost["is_lost"] != true || won["pipeline"] != "sales" {
		t.Fatalf("won/lost stages: %v %v", won, lost)
	}

	p := newPartners(e, e.Live, nil)
	if p["key"] != "partners" || p["object"] != "pipeline" || p["position"] != float64(1) || p["is_default"] != false ||
		p["label"] != "Partners" || p["created_at"] == nil {
		t.Fatalf("created: %v", p)
	}
	if got := e.stageKeys(e.Live, "partners"); !slices.Equal(got, []string{"intro", "negotiation", "signed"}) {
		t.Fatalf("partners stages %v", got)
	}
	got := e.call("GET", "/v1/pipelines/partners", e.Live, nil).must(t, http.StatusOK)
	if !reflect.DeepEqual(got.Body, p) {
		t.Fatalf("get %v, want %v", got.Body, p)
	}

	up := e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{"label": "Partner deals", "position": 0}).must(t, http.StatusOK).Body
	if up["label"] != "Partner deals" || up["position"] != float64(0) {
		t.Fatalf("update: %v", up)
	}
	if keys, _ := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"partners", "sales"}) {
		t.Fatalf("order after move: %v", keys)
	}
	// An empty update returns the pipeline unchanged.
	same := e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{}).must(t, http.StatusOK).Body
	if !reflect.DeepEqual(same, up) {
		t.Fatalf("empty update changed %v into %v", up, same)
	}

	del := e.call("DELETE", "/v1/pipelines/partners", e.Live, nil).must(t, http.StatusOK).Body
	if !reflect.DeepEqual(del, map[string]any{"object": "pipeline", "key": "partners", "deleted": true}) {
		t.Fatalf("delete: %v", del)
	}
	nf := expectError(t, e.call("GET", "/v1/pipelines/partners", e.Live, nil), 404, "not_found", "pipeline")
	if !reflect.DeepEqual(strs(nf["valid_options"]), []string{"sales"}) {
		t.Fatalf("not_found options: %v", nf)
	}
	expectError(t, e.call("DELETE", "/v1/pipelines/partners", e.Live, nil), 404, "not_found", "pipeline")
	expectError(t, e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{"label": "x"}), 404, "not_found", "pipeline")
	expectError(t, e.call("GET", "/v1/pipelines/partners/stages", e.Live, nil), 404, "not_found", "pipeline")
	if keys, _ := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"sales"}) {
		t.Fatalf("after delete: %v", keys)
	}
	sugg := expectError(t, e.call("GET", "/v1/pipelines/sale", e.Live, nil), 404, "not_found", "pipeline")
	if sugg["suggestion"] != "sales" {
		t.Fatalf("suggestion: %v", sugg)
	}
	st := expectError(t, e.call("PATCH", "/v1/pipelines/sales/stages/qualifed", e.Live, map[string]any{"label": "x"}), 404, "not_found", "stage")
	if st["suggestion"] != "qualified" || !reflect.DeepEqual(strs(st["valid_options"]), defaultStages) {
		t.Fatalf("unknown stage: %v", st)
	}
}

func TestPipelineValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	newPartners(e, e.Live, nil)
	before := len(e.events(e.Live))
	long := "a" + strings.Repeat("b", 50)
	for _, c := range []struct {
		method, path string
		body         map[string]any
		status       int
		code, param  string
	}{
		{"POST", "/v1/pipelines", map[string]any{"label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok"}, 422, "validation_failed", "label"},
		{"POST", "/v1/pipelines", map[string]any{"key": "Sales", "label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "1st", "label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "a-b", "label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "", "label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": long, "label": "x"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok", "label": ""}, 422, "validation_failed", "label"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok", "label": "x", "position": -1}, 422, "validation_failed", "position"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok", "label": "x", "stages": []any{map[string]any{"key": "A", "label": "x"}}}, 422, "validation_failed", "stages.0.key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok", "label": "x", "stages": []any{
			map[string]any{"key": "a", "label": "x"}, map[string]any{"key": "a", "label": "y"}}}, 422, "validation_failed", "stages.1.key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "ok", "label": "x", "stages": []any{
			map[string]any{"key": "a", "label": "x", "is_won": true, "is_lost": true}}}, 422, "validation_failed", "stages.0.is_lost"},
		{"POST", "/v1/pipelines", map[string]any{"key": "sales", "label": "Again"}, 409, "already_exists", "key"},
		{"POST", "/v1/pipelines", map[string]any{"key": "sales", "label": "Again", "is_default": true}, 409, "already_exists", "key"},
		{"PATCH", "/v1/pipelines/sales", map[string]any{"key": "renamed"}, 422, "validation_failed", "key"},
		{"PATCH", "/v1/pipelines/sales", map[string]any{"label": nil}, 422, "validation_failed", "label"},
		{"PATCH", "/v1/pipelines/sales", map[string]any{"is_default": false}, 422, "validation_failed", "is_default"},
		{"PATCH", "/v1/pipelines/Sales", map[string]any{"label": "x"}, 404, "not_found", "pipeline"},
		{"GET", "/v1/pipelines/Sales", nil, 404, "not_found", "pipeline"},
		{"POST", "/v1/pipelines/sales/stages", map[string]any{"key": "Demo", "label": "Demo"}, 422, "validation_failed", "key"},
		{"POST", "/v1/pipelines/sales/stages", map[string]any{"key": "demo", "label": "Demo", "is_won": true, "is_lost": true}, 422, "validation_failed", "is_lost"},
		{"POST", "/v1/pipelines/sales/stages", map[string]any{"key": "won", "label": "Won again"}, 409, "already_exists", "key"},
		{"POST", "/v1/pipeline/stages", map[string]any{"key": "lead", "label": "Lead again"}, 409, "already_exists", "key"},
		{"POST", "/v1/pipelines/sales/stages", map[string]any{"pipeline": "partners", "key": "demo", "label": "Demo"}, 400, "bad_request", "pipeline"},
		{"POST", "/v1/pipeline/stages", map[string]any{"pipeline": "partners", "key": "demo", "label": "Demo"}, 400, "bad_request", "pipeline"},
		{"GET", "/v1/pipeline/stages?pipeline=partners", nil, 400, "bad_request", "pipeline"},
		{"PATCH", "/v1/pipelines/sales/stages/won", map[string]any{"is_lost": true}, 422, "validation_failed", "is_lost"},
		{"PATCH", "/v1/pipelines/sales/stages/lost", map[string]any{"is_won": true}, 422, "validation_failed", "is_won"},
		{"PATCH", "/v1/pipelines/sales/stages/won", map[string]any{"key": "closed"}, 422, "validation_failed", "key"},
		{"PATCH", "/v1/pipelines/sales/stages/Won", map[string]any{"label": "x"}, 404, "not_found", "stage"},
		{"DELETE", "/v1/pipelines/sales", nil, 409, "cannot_delete_default", "pipeline"},
	} {
		r := e.call(c.method, c.path, e.Live, c.body)
		er := expectError(t, r, c.status, c.code, c.param)
		if c.code == "already_exists" && er["existing_id"] != c.body["key"] {
			t.Errorf("%s %s: already_exists must name the key: %s", c.method, c.path, r.Raw)
		}
	}
	if evs := e.events(e.Live)[before:]; len(evs) != 0 {
		t.Fatalf("refused changes recorded events: %v", evs)
	}
	if got := e.stageKeys(e.Live, "sales"); !slices.Equal(got, defaultStages) {
		t.Fatalf("sales stages changed: %v", got)
	}
	if keys, def := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"sales", "partners"}) || def != "sales" {
		t.Fatalf("pipelines changed: %v %s", keys, def)
	}
	// Switching a stage between won and lost takes both fields.
	sw := e.call("PATCH", "/v1/pipelines/sales/stages/won", e.Live, map[string]any{"is_won": false, "is_lost": true}).must(t, 200).Body
	if sw["is_won"] != false || sw["is_lost"] != true {
		t.Fatalf("switch: %v", sw)
	}
}

func TestPipelineLimits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var stages []any
	for i := range 100 {
		stages = append(stages, map[string]any{"key": fmt.Sprintf("s%d", i), "label": "S"})
	}
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "big", "label": "Big", "stages": stages}).must(t, 201)
	expectError(t, e.call("POST", "/v1/pipelines/big/stages", e.Live, map[string]any{"key": "one_more", "label": "x"}), 422, "validation_failed", "")
	stages = append(stages, map[string]any{"key": "s100", "label": "S"})
	expectError(t, e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "bigger", "label": "x", "stages": stages}), 422, "validation_failed", "stages")
	for i := 2; i < 100; i++ {
		e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": fmt.Sprintf("p%d", i), "label": "P"}).must(t, 201)
	}
	expectError(t, e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "p100", "label": "P"}), 422, "validation_failed", "")
	if keys, _ := e.pipelineKeys(e.Live); len(keys) != 100 {
		t.Fatalf("%d pipelines", len(keys))
	}
}

// TestStagePositionsStayATotalOrder adds, moves and removes stages at random positions,
// through both the pipeline routes and the default-pipeline aliases, and compares the
// order after every step with a model of it.
func TestStagePositionsStayATotalOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "side", "label": "Side"}).must(t, 201)
	rng := rand.New(rand.NewPCG(1, 2))
	models := map[string][]string{"": slices.Clone(defaultStages), "side": {}}
	next := 0
	for step := range 120 {
		pipeline := []string{"", "side"}[rng.IntN(2)]
		base := "/v1/pipelines/side/stages"
		if pipeline == "" { // the default pipeline, by its alias or by its key
			base = []string{"/v1/pipeline/stages", "/v1/pipelines/sales/stages"}[rng.IntN(2)]
		}
		m := models[pipeline]
		switch op := rng.IntN(3); {
		case op == 0 || len(m) < 2:
			key := fmt.Sprintf("k%d", next)
			next++
			pos := rng.IntN(len(m) + 3) // sometimes beyond the end: appended
			e.call("POST", base, e.Live, map[string]any{"key": key, "label": "K", "position": pos}).must(t, 201)
			m = slices.Insert(m, min(pos, len(m)), key)
		case op == 1:
			i, to := rng.IntN(len(m)), rng.IntN(len(m)+2)
			key := m[i]
			s := e.call("PATCH", base+"/"+key, e.Live, map[string]any{"position": to}).must(t, 200).Body
			m = slices.Delete(m, i, i+1)
			m = slices.Insert(m, min(to, len(m)), key)
			if s["position"] != float64(min(to, len(m)-1)) {
				t.Fatalf("step %d: moved to %v, want %d", step, s["position"], min(to, len(m)-1))
			}
		default:
			i := rng.IntN(len(m))
			e.call("DELETE", base+"/"+m[i], e.Live, nil).must(t, 200)
			m = slices.Delete(m, i, i+1)
		}
		models[pipeline] = m
		if got := e.stageKeys(e.Live, pipeline); !slices.Equal(got, m) {
			t.Fatalf("step %d (%s): order %v, want %v", step, base, got, m)
		}
	}
	if got := e.stageKeys(e.Live, "sales"); !slices.Equal(got, models[""]) {
		t.Fatalf("sales %v, want %v", got, models[""])
	}
}

func TestPipelinePositions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i, key := range []string{"b", "c", "d"} {
		e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": key, "label": key}).must(t, 201)
		if keys, _ := e.pipelineKeys(e.Live); len(keys) != i+2 || keys[i+1] != key {
			t.Fatalf("appended: %v", keys)
		}
	}
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "a", "label": "a", "position": 0}).must(t, 201)
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "z", "label": "z", "position": 500}).must(t, 201)
	if keys, _ := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"a", "sales", "b", "c", "d", "z"}) {
		t.Fatalf("inserted: %v", keys)
	}
	e.call("PATCH", "/v1/pipelines/a", e.Live, map[string]any{"position": 3}).must(t, 200)
	e.call("PATCH", "/v1/pipelines/z", e.Live, map[string]any{"position": 0}).must(t, 200)
	e.call("PATCH", "/v1/pipelines/sales", e.Live, map[string]any{"position": 1000}).must(t, 200)
	if keys, _ := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"z", "b", "c", "a", "d", "sales"}) {
		t.Fatalf("moved: %v", keys)
	}
	e.call("DELETE", "/v1/pipelines/c", e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/pipelines/z", e.Live, nil).must(t, 200)
	if keys, _ := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"b", "a", "d", "sales"}) {
		t.Fatalf("deleted: %v", keys)
	}
}

func TestDefaultPipeline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := len(e.events(e.Live))
	p := newPartners(e, e.Live, map[string]any{"is_default": true})
	if p["is_default"] != true {
		t.Fatalf("created: %v", p)
	}
	if _, def := e.pipelineKeys(e.Live); def != "partners" {
		t.Fatalf("default %s", def)
	}
	evs := e.eventsAfter(e.Live, before)
	if types := eventTypes(evs); !slices.Equal(types, []string{"pipeline.created", "pipeline_stage.created", "pipeline_stage.created", "pipeline_stage.created", "pipeline.updated"}) {
		t.Fatalf("events %v", types)
	}
	if obj, prev := dataOf(evs[4]); obj["key"] != "sales" || obj["is_default"] != false || !reflect.DeepEqual(prev, map[string]any{"is_default": true}) {
		t.Fatalf("previous default's event: %v %v", obj, prev)
	}
	// The aliases and deals without a pipeline follow the default.
	if got := e.stageKeys(e.Live, ""); !slices.Equal(got, []string{"intro", "negotiation", "signed"}) {
		t.Fatalf("alias stages: %v", got)
	}
	d := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "To partners"}).must(t, 201).Body
	if d["pipeline"] != "partners" || d["stage"] != "intro" {
		t.Fatalf("deal: %v", d)
	}
	expectError(t, e.call("DELETE", "/v1/pipelines/partners", e.Live, nil), 409, "cannot_delete_default", "pipeline")
	expectError(t, e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{"is_default": false}), 422, "validation_failed", "is_default")
	// is_default: false on a pipeline that is not the default changes nothing.
	e.call("PATCH", "/v1/pipelines/sales", e.Live, map[string]any{"is_default": false}).must(t, 200)

	// Making sales the default again unsets partners, in the same transaction.
	n := len(e.events(e.Live))
	s := e.call("PATCH", "/v1/pipelines/sales", e.Live, map[string]any{"is_default": true}).must(t, 200).Body
	if s["is_default"] != true {
		t.Fatalf("sales: %v", s)
	}
	if _, def := e.pipelineKeys(e.Live); def != "sales" {
		t.Fatalf("default %s", def)
	}
	if types := eventTypes(e.eventsAfter(e.Live, n)); !slices.Equal(types, []string{"pipeline.updated", "pipeline.updated"}) {
		t.Fatalf("events %v", types)
	}
	if got := e.stageKeys(e.Live, ""); !slices.Equal(got, defaultStages) {
		t.Fatalf("alias stages: %v", got)
	}
	// Setting it again changes nothing.
	n = len(e.events(e.Live))
	e.call("PATCH", "/v1/pipelines/sales", e.Live, map[string]any{"is_default": true}).must(t, 200)
	if len(e.events(e.Live)) != n {
		t.Fatal("a no-op update recorded events")
	}
	// Once not the default (and empty of deals), partners can go.
	e.call("DELETE", "/v1/deals/"+d["id"].(string), e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/pipelines/partners", e.Live, nil).must(t, 200)
}

func TestPipelineAndStageInUse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	newPartners(e, e.Live, nil)
	deal := e.create("deals", e.Live, map[string]any{"title": "Partner deal", "pipeline": "partners", "stage": "negotiation"})
	e.create("deals", e.Live, map[string]any{"title": "Another", "pipeline": "partners", "stage": "negotiation"})
	before := len(e.events(e.Live))
	er := expectError(t, e.call("DELETE", "/v1/pipelines/partners/stages/negotiation", e.Live, nil), 409, "stage_in_use", "stage")
	if !strings.Contains(er["message"].(string), "2 deals") {
		t.Fatalf("message: %v", er)
	}
	expectError(t, e.call("DELETE", "/v1/pipelines/partners", e.Live, nil), 409, "pipeline_in_use", "pipeline")
	// Stages no deal uses can go.
	e.call("DELETE", "/v1/pipelines/partners/stages/intro", e.Live, nil).must(t, 200)
	if got := e.stageKeys(e.Live, "partners"); !slices.Equal(got, []string{"negotiation", "signed"}) {
		t.Fatalf("stages %v", got)
	}
	// The default pipeline's stages the same way, through the alias.
	sales := e.create("deals", e.Live, map[string]any{"title": "Sales deal", "stage": "proposal"})
	expectError(t, e.call("DELETE", "/v1/pipeline/stages/proposal", e.Live, nil), 409, "stage_in_use", "stage")
	e.call("DELETE", "/v1/deals/"+sales, e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/pipeline/stages/proposal", e.Live, nil).must(t, 200)

	// Only the two stages that went are recorded as deleted.
	types := strings.Join(e.events(e.Live)[before:], " ")
	if strings.Contains(types, "pipeline.deleted") || strings.Count(types, "pipeline_stage.deleted") != 2 {
		t.Fatalf("events %v", types)
	}
	// Moving the deals out frees the pipeline.
	for _, id := range ids(e.call("GET", "/v1/deals?pipeline=partners", e.Live, nil)) {
		e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"pipeline": "sales", "stage": "lead"}).must(t, 200)
	}
	e.call("DELETE", "/v1/pipelines/partners", e.Live, nil).must(t, 200)
	if d := e.call("GET", "/v1/deals/"+deal, e.Live, nil).must(t, 200).Body; d["pipeline"] != "sales" || d["stage"] != "lead" {
		t.Fatalf("deal: %v", d)
	}
}

// TestStageInUseBackstop checks that the database refuses to delete a stage a deal uses
// even past the application's count, and that the refusal is named.
func TestStageInUseBackstop(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.create("deals", e.Live, map[string]any{"title": "Lead"})
	caller := auth.Caller{WorkspaceID: e.workspaceID("acme"), Mode: auth.Live}
	err := e.Store.InTx(context.Background(), caller, func(tx *store.Tx) error {
		return store.DeleteStage(context.Background(), tx, "sales", "lead")
	})
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("delete a used stage: %v", err)
	}
	err = e.Store.InTx(context.Background(), caller, func(tx *store.Tx) error {
		if err := store.SetPipeline(context.Background(), tx, "sales", map[string]any{"is_default": false}); err != nil {
			return err
		}
		return store.DeletePipeline(context.Background(), tx, "sales")
	})
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("delete a used pipeline: %v", err)
	}
	if got := e.stageKeys(e.Live, "sales"); !slices.Equal(got, defaultStages) {
		t.Fatalf("stages %v", got)
	}
}

func TestDealsInCustomPipelines(t *testing.T) {
	t.Parallel()
	e := setup(t)
	newPartners(e, e.Live, nil)
	d := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "Reseller", "pipeline": "partners"}).must(t, 201).Body
	if d["pipeline"] != "partners" || d["stage"] != "intro" {
		t.Fatalf("created in partners: %v", d)
	}
	id := d["id"].(string)
	r := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "pipeline": "partners", "stage": "lead"})
	if opts := expectError(t, r, 422, "validation_failed", "stage")["valid_options"]; !reflect.DeepEqual(strs(opts), []string{"intro", "negotiation", "signed"}) {
		t.Fatalf("valid stages: %v", opts)
	}
	r = e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "pipeline": "partner"})
	if er := expectError(t, r, 422, "validation_failed", "pipeline"); !reflect.DeepEqual(strs(er["valid_options"]), []string{"sales", "partners"}) || er["suggestion"] != "partners" {
		t.Fatalf("valid pipelines: %v", er)
	}

	// A stage change within the pipeline.
	e.call("PATCH", "/v1/deals/"+id, e.Live, map[string]any{"stage": "negotiation"}).must(t, 200)
	ev := e.lastEvent(e.Live, "deal.stage_changed")["data"].(map[string]any)
	if ev["old_stage"] != "intro" || ev["new_stage"] != "negotiation" || ev["pipeline"] != "partners" {
		t.Fatalf("stage_changed: %v", ev)
	}

	// Across pipelines: both events, and the deal lands on a stage of the new pipeline.
	n := len(e.events(e.Live))
	moved := e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"pipeline": "sales", "stage": "qualified"}).must(t, 200).Body
	if moved["pipeline"] != "sales" || moved["stage"] != "qualified" {
		t.Fatalf("moved: %v", moved)
	}
	evs := e.eventsAfter(e.Live, n)
	if types := eventTypes(evs); !slices.Equal(types, []string{"deal.updated", "deal.pipeline_changed", "deal.stage_changed"}) {
		t.Fatalf("events %v", types)
	}
	pc, sc := evs[1]["data"].(map[string]any), evs[2]["data"].(map[string]any)
	if pc["old_pipeline"] != "partners" || pc["new_pipeline"] != "sales" || sc["old_stage"] != "negotiation" || sc["new_stage"] != "qualified" || sc["pipeline"] != "sales" {
		t.Fatalf("move data: %v %v", pc, sc)
	}

	// Changing only the pipeline puts the deal on the new pipeline's first stage.
	n = len(e.events(e.Live))
	back := e.call("PATCH", "/v1/deals/"+id, e.Live, map[string]any{"pipeline": "partners"}).must(t, 200).Body
	if back["pipeline"] != "partners" || back["stage"] != "intro" {
		t.Fatalf("back: %v", back)
	}
	if types := eventTypes(e.eventsAfter(e.Live, n)); !slices.Equal(types, []string{"deal.updated", "deal.pipeline_changed", "deal.stage_changed"}) {
		t.Fatalf("events %v", types)
	}

	// A stage the target pipeline lacks is refused with its stages, and nothing moves.
	n = len(e.events(e.Live))
	for _, r := range []resp{
		e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"pipeline": "sales", "stage": "signed"}),
		e.call("PATCH", "/v1/deals/"+id, e.Live, map[string]any{"pipeline": "sales", "stage": "intro"}),
	} {
		if opts := expectError(t, r, 422, "validation_failed", "stage")["valid_options"]; !reflect.DeepEqual(strs(opts), defaultStages) {
			t.Fatalf("valid stages: %v", opts)
		}
	}
	if got := e.call("GET", "/v1/deals/"+id, e.Live, nil).must(t, 200).Body; got["pipeline"] != "partners" || got["stage"] != "intro" {
		t.Fatalf("deal moved: %v", got)
	}
	if len(e.events(e.Live)) != n {
		t.Fatal("refused moves recorded events")
	}
	if got := ids(e.call("GET", "/v1/deals?pipeline=partners", e.Live, nil)); !slices.Equal(got, []string{id}) {
		t.Fatalf("deals in partners: %v", got)
	}

	// The first stage is the one at position 0, whatever the order was when it was made.
	e.call("PATCH", "/v1/pipelines/partners/stages/signed", e.Live, map[string]any{"position": 0}).must(t, 200)
	if d := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "y", "pipeline": "partners"}).must(t, 201).Body; d["stage"] != "signed" {
		t.Fatalf("first stage after reorder: %v", d)
	}

	// A pipeline without stages takes no deals, and says why.
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "empty", "label": "Empty"}).must(t, 201)
	er := expectError(t, e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "z", "pipeline": "empty"}), 422, "validation_failed", "stage")
	if !strings.Contains(er["message"].(string), "no stages") {
		t.Fatalf("empty pipeline: %v", er)
	}
}

func TestPipelineEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := len(e.events(e.Live))
	newPartners(e, e.Live, nil)
	evs := e.eventsAfter(e.Live, before)
	if types := eventTypes(evs); !slices.Equal(types, []string{"pipeline.created", "pipeline_stage.created", "pipeline_stage.created", "pipeline_stage.created"}) {
		t.Fatalf("create: %v", types)
	}
	if obj, _ := dataOf(evs[0]); obj["key"] != "partners" || len(obj["stages"].([]any)) != 3 {
		t.Fatalf("pipeline.created data: %v", obj)
	}
	if obj, _ := dataOf(evs[1]); obj["key"] != "intro" || obj["pipeline"] != "partners" {
		t.Fatalf("pipeline_stage.created data: %v", obj)
	}

	// Inserting at 0 shifts the others: the new stage's event first, then theirs.
	n := len(e.events(e.Live))
	e.call("POST", "/v1/pipelines/partners/stages", e.Live, map[string]any{"key": "sourced", "label": "Sourced", "position": 0}).must(t, 201)
	evs = e.eventsAfter(e.Live, n)
	if types := eventTypes(evs); !slices.Equal(types, []string{"pipeline_stage.created", "pipeline_stage.updated", "pipeline_stage.updated", "pipeline_stage.updated"}) {
		t.Fatalf("insert: %v", types)
	}
	if obj, _ := dataOf(evs[0]); obj["key"] != "sourced" || obj["position"] != float64(0) {
		t.Fatalf("created: %v", obj)
	}
	if obj, prev := dataOf(evs[1]); obj["key"] != "intro" || obj["position"] != float64(1) || !reflect.DeepEqual(prev, map[string]any{"position": float64(0)}) {
		t.Fatalf("shifted: %v %v", obj, prev)
	}

	n = len(e.events(e.Live))
	e.call("PATCH", "/v1/pipelines/partners/stages/signed", e.Live, map[string]any{"label": "Closed"}).must(t, 200)
	evs = e.eventsAfter(e.Live, n)
	if len(evs) != 1 || evs[0]["type"] != "pipeline_stage.updated" {
		t.Fatalf("relabel: %v", eventTypes(evs))
	}
	if obj, prev := dataOf(evs[0]); obj["label"] != "Closed" || !reflect.DeepEqual(prev, map[string]any{"label": "Signed"}) {
		t.Fatalf("relabel data: %v %v", obj, prev)
	}

	// No change, no event.
	n = len(e.events(e.Live))
	e.call("PATCH", "/v1/pipelines/partners/stages/signed", e.Live, map[string]any{"label": "Closed", "position": 3, "is_won": true}).must(t, 200)
	e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{"label": "Partners", "position": 1}).must(t, 200)
	if got := e.events(e.Live)[n:]; len(got) != 0 {
		t.Fatalf("no-op updates recorded %v", got)
	}

	n = len(e.events(e.Live))
	e.call("DELETE", "/v1/pipelines/partners/stages/sourced", e.Live, nil).must(t, 200)
	if types := eventTypes(e.eventsAfter(e.Live, n)); !slices.Equal(types, []string{"pipeline_stage.deleted", "pipeline_stage.updated", "pipeline_stage.updated", "pipeline_stage.updated"}) {
		t.Fatalf("delete stage: %v", types)
	}

	n = len(e.events(e.Live))
	e.call("PATCH", "/v1/pipelines/partners", e.Live, map[string]any{"label": "Channel", "position": 0}).must(t, 200)
	evs = e.eventsAfter(e.Live, n)
	if types := eventTypes(evs); !slices.Equal(types, []string{"pipeline.updated", "pipeline.updated"}) {
		t.Fatalf("update pipeline: %v", types)
	}
	if obj, prev := dataOf(evs[0]); obj["key"] != "partners" || !reflect.DeepEqual(prev, map[string]any{"label": "Partners", "position": float64(1)}) {
		t.Fatalf("pipeline.updated: %v %v", obj, prev)
	}

	n = len(e.events(e.Live))
	e.call("DELETE", "/v1/pipelines/partners", e.Live, nil).must(t, 200)
	evs = e.eventsAfter(e.Live, n)
	if types := eventTypes(evs); !slices.Equal(types, []string{"pipeline_stage.deleted", "pipeline_stage.deleted", "pipeline_stage.deleted", "pipeline.deleted", "pipeline.updated"}) {
		t.Fatalf("delete pipeline: %v", types)
	}
	if obj, _ := dataOf(evs[3]); obj["key"] != "partners" {
		t.Fatalf("pipeline.deleted: %v", obj)
	}
	if obj, prev := dataOf(evs[4]); obj["key"] != "sales" || obj["position"] != float64(0) || prev["position"] != float64(1) {
		t.Fatalf("gap closed: %v %v", obj, prev)
	}
	// The event log filters on them like any other type.
	if got := e.call("GET", "/v1/events?filter[type][ilike]=pipeline_stage.%25", e.Live, nil).must(t, 200); len(got.Body["data"].([]any)) == 0 {
		t.Fatal("no pipeline_stage events listed")
	}
}

func TestPipelineAliases(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alias := e.call("GET", "/v1/pipeline/stages", e.Live, nil).must(t, 200)
	canonical := e.call("GET", "/v1/pipelines/sales/stages", e.Live, nil).must(t, 200)
	if string(alias.Raw) != string(canonical.Raw) {
		t.Fatalf("alias %s, canonical %s", alias.Raw, canonical.Raw)
	}
	s := e.call("POST", "/v1/pipeline/stages", e.Live, map[string]any{"key": "demo", "label": "Demo", "position": 1}).must(t, 201).Body
	if s["pipeline"] != "sales" || s["key"] != "demo" || s["position"] != float64(1) {
		t.Fatalf("created: %v", s)
	}
	s = e.call("PATCH", "/v1/pipeline/stages/demo", e.Live, map[string]any{"label": "Demo booked", "position": 2}).must(t, 200).Body
	if s["label"] != "Demo booked" || s["position"] != float64(2) {
		t.Fatalf("updated: %v", s)
	}
	if got := e.stageKeys(e.Live, "sales"); !slices.Equal(got, []string{"lead", "qualified", "demo", "proposal", "won", "lost"}) {
		t.Fatalf("stages %v", got)
	}
	d := e.call("DELETE", "/v1/pipeline/stages/demo", e.Live, nil).must(t, 200).Body
	if !reflect.DeepEqual(d, map[string]any{"object": "pipeline_stage", "pipeline": "sales", "key": "demo", "deleted": true}) {
		t.Fatalf("deleted: %v", d)
	}
	expectError(t, e.call("PATCH", "/v1/pipeline/stages/demo", e.Live, map[string]any{"label": "x"}), 404, "not_found", "stage")
	expectError(t, e.call("PUT", "/v1/pipeline/stages/lead", e.Live, map[string]any{}), 405, "method_not_allowed", "")

	// An alias POST is idempotent like its route.
	body := map[string]any{"key": "retry", "label": "Retry"}
	raw := must(jsonMarshal(body))
	first := e.do("POST", "/v1/pipeline/stages", e.Live, raw, "Idempotency-Key", "alias-1").must(t, 201)
	again := e.do("POST", "/v1/pipeline/stages", e.Live, raw, "Idempotency-Key", "alias-1").must(t, 201)
	if string(again.Raw) != string(first.Raw) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s %v", again.Raw, again.Header)
	}

	// The OpenAPI document lists the aliases as operations of their own.
	doc := e.call("GET", "/openapi.json", "", nil).must(t, 200).Body
	paths := doc["paths"].(map[string]any)
	for path, ops := range map[string][]string{
		"/v1/pipeline/stages":         {"get", "post"},
		"/v1/pipeline/stages/{stage}": {"patch", "delete"},
	} {
		item, _ := paths[path].(map[string]any)
		for _, m := range ops {
			op, _ := item[m].(map[string]any)
			if op == nil || !strings.HasSuffix(op["operationId"].(string), "_alias") {
				t.Errorf("openapi %s %s: %v", m, path, op)
			}
		}
	}
	// Request logs name the alias route and its tool.
	logs := e.waitLogs(e.Live, "path="+url.QueryEscape("/v1/pipeline/stages/{stage}"), 3)
	if logs[0]["tool"] != "delete_pipeline_stage" && logs[0]["tool"] != "update_pipeline_stage" {
		t.Fatalf("log: %v", logs[0])
	}
}

func TestPipelinesMCP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	call := func(name string, args map[string]any) map[string]any {
		t.Helper()
		res := tool(t, cs, name, args)
		if res.IsError {
			t.Fatalf("%s: %s", name, text(t, res))
		}
		return decode(t, text(t, res))
	}
	fail := func(name string, args map[string]any, code string) {
		t.Helper()
		res := tool(t, cs, name, args)
		if !res.IsError || decode(t, text(t, res))["error"].(map[string]any)["code"] != code {
			t.Fatalf("%s: want %s, got %s", name, code, text(t, res))
		}
	}
	if l := call("list_pipelines", map[string]any{}); len(l["data"].([]any)) != 1 {
		t.Fatalf("list: %v", l)
	}
	args := map[string]any{"key": "partners", "label": "Partners", "stages": []any{map[string]any{"key": "intro", "label": "Intro"}}, "idempotency_key": "p-1"}
	p := call("create_pipeline", args)
	if p["key"] != "partners" || len(p["stages"].([]any)) != 1 {
		t.Fatalf("create: %v", p)
	}
	if again := call("create_pipeline", args); !reflect.DeepEqual(again, p) {
		t.Fatalf("idempotent replay: %v", again)
	}
	fail("create_pipeline", map[string]any{"key": "partners", "label": "Again"}, "already_exists")
	if g := call("get_pipeline", map[string]any{"pipeline": "partners"}); !reflect.DeepEqual(g, p) {
		t.Fatalf("get: %v", g)
	}
	if u := call("update_pipeline", map[string]any{"pipeline": "partners", "label": "Channel", "is_default": true}); u["label"] != "Channel" || u["is_default"] != true {
		t.Fatalf("update: %v", u)
	}
	// Without pipeline, stage tools work on the default pipeline, now partners.
	s := call("create_pipeline_stage", map[string]any{"key": "signed", "label": "Signed", "is_won": true})
	if s["pipeline"] != "partners" || s["position"] != float64(1) {
		t.Fatalf("create stage: %v", s)
	}
	if l := call("list_pipeline_stages", map[string]any{}); len(l["data"].([]any)) != 2 {
		t.Fatalf("list stages: %v", l)
	}
	if l := call("list_pipeline_stages", map[string]any{"pipeline": "sales"}); len(l["data"].([]any)) != 5 {
		t.Fatalf("list sales stages: %v", l)
	}
	if u := call("update_pipeline_stage", map[string]any{"stage": "signed", "position": 0}); u["position"] != float64(0) {
		t.Fatalf("update stage: %v", u)
	}
	if u := call("update_pipeline_stage", map[string]any{"pipeline": "sales", "stage": "lead", "label": "New lead"}); u["label"] != "New lead" || u["pipeline"] != "sales" {
		t.Fatalf("update sales stage: %v", u)
	}
	fail("update_pipeline_stage", map[string]any{"stage": "signed", "is_lost": true}, "validation_failed")
	fail("create_pipeline_stage", map[string]any{"pipeline": "nope", "key": "x", "label": "X"}, "not_found")
	d := call("create_deal", map[string]any{"title": "MCP deal"})
	if d["pipeline"] != "partners" || d["stage"] != "signed" {
		t.Fatalf("deal: %v", d)
	}
	fail("delete_pipeline_stage", map[string]any{"stage": "signed"}, "stage_in_use")
	fail("delete_pipeline", map[string]any{"pipeline": "partners"}, "cannot_delete_default")
	call("update_pipeline", map[string]any{"pipeline": "sales", "is_default": true})
	fail("delete_pipeline", map[string]any{"pipeline": "partners"}, "pipeline_in_use")
	call("move_deal_stage", map[string]any{"id": d["id"], "pipeline": "sales", "stage": "won"})
	if r := call("delete_pipeline_stage", map[string]any{"pipeline": "partners", "stage": "intro"}); r["deleted"] != true || r["key"] != "intro" {
		t.Fatalf("delete stage: %v", r)
	}
	if r := call("delete_pipeline", map[string]any{"pipeline": "partners"}); r["deleted"] != true || r["key"] != "partners" {
		t.Fatalf("delete: %v", r)
	}
	fail("get_pipeline", map[string]any{"pipeline": "partners"}, "not_found")
}

func TestPipelinesIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	newPartners(e, e.Live, map[string]any{"is_default": true})
	e.call("POST", "/v1/pipelines/sales/stages", e.Live, map[string]any{"key": "demo", "label": "Demo"}).must(t, 201)
	liveDeal := e.create("deals", e.Live, map[string]any{"title": "Live"})

	for name, key := range map[string]string{"other workspace": e.Other, "test mode": e.Test} {
		// Nothing of workspace A's live pipelines shows or can be touched.
		if keys, def := e.pipelineKeys(key); !slices.Equal(keys, []string{"sales"}) || def != "sales" {
			t.Fatalf("%s sees %v (default %s)", name, keys, def)
		}
		if got := e.stageKeys(key, ""); !slices.Equal(got, defaultStages) {
			t.Fatalf("%s default stages %v", name, got)
		}
		expectError(t, e.call("GET", "/v1/pipelines/partners", key, nil), 404, "not_found", "pipeline")
		expectError(t, e.call("PATCH", "/v1/pipelines/sales/stages/demo", key, map[string]any{"label": "x"}), 404, "not_found", "stage")
		expectError(t, e.call("DELETE", "/v1/pipelines/partners", key, nil), 404, "not_found", "pipeline")
		r := e.call("POST", "/v1/deals", key, map[string]any{"title": "x", "pipeline": "partners"})
		expectError(t, r, 422, "validation_failed", "pipeline")
		// The same keys are free here, and changes stay here.
		newPartners(e, key, nil)
		e.call("POST", "/v1/pipeline/stages", key, map[string]any{"key": "demo", "label": "Their demo", "position": 0}).must(t, 201)
		e.call("PATCH", "/v1/pipelines/partners", key, map[string]any{"is_default": true}).must(t, 200)
		e.call("DELETE", "/v1/pipelines/sales/stages/lost", key, nil).must(t, 200)
		e.call("DELETE", "/v1/pipelines/sales", key, nil).must(t, 200)
		for _, typ := range e.events(key) {
			if strings.HasPrefix(typ, "deal.") {
				t.Fatalf("%s sees a deal event", name)
			}
		}
	}
	if keys, def := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"sales", "partners"}) || def != "partners" {
		t.Fatalf("workspace A's live pipelines changed: %v %s", keys, def)
	}
	if got := e.stageKeys(e.Live, "sales"); !slices.Equal(got, append(slices.Clone(defaultStages), "demo")) {
		t.Fatalf("workspace A's live stages changed: %v", got)
	}
	if got := e.call("GET", "/v1/pipelines/sales/stages", e.Live, nil).Body["data"].([]any)[5].(map[string]any); got["label"] != "Demo" {
		t.Fatalf("demo stage: %v", got)
	}
	if d := e.call("GET", "/v1/deals/"+liveDeal, e.Live, nil).must(t, 200).Body; d["pipeline"] != "partners" || d["stage"] != "intro" {
		t.Fatalf("deal: %v", d)
	}
}

// TestConcurrentPipelineChanges races stage inserts at the same position and creates of
// the same pipeline key: every request gets a clean answer, one create wins, and positions
// stay 0..n-1.
func TestConcurrentPipelineChanges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const clients = 8
	send := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		req.Header.Set("Authorization", "Bearer "+e.Live)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, res.Body)
		return res.StatusCode, b.String()
	}
	statuses := make([]int, 2*clients)
	bodies := make([]string, 2*clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			<-start
			// Half by the alias: they land in whichever pipeline is the default by then.
			path := []string{"/v1/pipelines/sales/stages", "/v1/pipeline/stages"}[i%2]
			statuses[i], bodies[i] = send("POST", path, fmt.Sprintf(`{"key":"race_%d","label":"Race","position":0}`, i))
		})
		wg.Go(func() {
			<-start
			statuses[clients+i], bodies[clients+i] = send("POST", "/v1/pipelines", `{"key":"dup","label":"Dup","position":0,"is_default":true}`)
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch {
		case i < clients && st != http.StatusCreated:
			t.Errorf("stage insert %d: %d %s", i, st, bodies[i])
		case i >= clients && st == http.StatusCreated:
			created++
		case i >= clients && (st != http.StatusConflict || !strings.Contains(bodies[i], "already_exists")):
			t.Errorf("duplicate create %d: %d %s", i, st, bodies[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d creates of the same key succeeded", created)
	}
	sales, dup := e.stageKeys(e.Live, "sales"), e.stageKeys(e.Live, "dup")
	if len(sales)+len(dup) != 5+clients || !slices.Equal(sales[len(sales)-5:], defaultStages) {
		t.Fatalf("stages: sales %v, dup %v", sales, dup)
	}
	if keys, def := e.pipelineKeys(e.Live); !slices.Equal(keys, []string{"dup", "sales"}) || def != "dup" {
		t.Fatalf("pipelines %v, default %s", keys, def)
	}
	if n := strings.Count(strings.Join(e.events(e.Live), " "), "pipeline.created"); n != 1 {
		t.Fatalf("%d pipeline.created events", n)
	}
}
