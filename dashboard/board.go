package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relmcrm/relm/tools"
)

var _ = page("GET /board", (*Dashboard).boardPage)

// boardCap is how many deals the board shows at most.
const boardCap = 500

// boardView is the deal board of one pipeline.
type boardView struct {
	Pipelines []map[string]any
	Pipeline  string // the shown pipeline's key
	Back      string // this page, for the move forms
	Columns   []boardColumn
	Capped    bool
	Cap       int
	Error     string
}

// boardColumn is a stage with its deals.
type boardColumn struct {
	Key, Label string
	Deals      []boardCard
}

type boardCard struct {
	ID, Title, Value, Stage string
}

// boardPage shows the deals of a pipeline (the one chosen, else the default) in a column
// per stage, in order; each card has a "move to stage" form, which drag and drop submits.
func (d *Dashboard) boardPage(w http.ResponseWriter, r *http.Request, v *visit) {
	bv := boardView{Cap: boardCap}
	list, err := d.call(r, v, "list_pipelines", map[string]any{"limit": json.Number("200")})
	if err != nil {
		bv.Error = errorText(err)
		d.render(w, r, v, "board", "Deal board", bv)
		return
	}
	bv.Pipelines = listData(list)
	pipeline := pickPipeline(bv.Pipelines, r.URL.Query().Get("pipeline"))
	if pipeline == nil {
		d.render(w, r, v, "board", "Deal board", bv)
		return
	}
	bv.Pipeline = str(pipeline["key"])
	bv.Back = "/board?pipeline=" + url.QueryEscape(bv.Pipeline)
	index := map[string]int{}
	for _, s := range items(pipeline["stages"]) {
		stage, _ := s.(map[string]any)
		index[str(stage["key"])] = len(bv.Columns)
		bv.Columns = append(bv.Columns, boardColumn{Key: str(stage["key"]), Label: str(stage["label"])})
	}
	deals, capped, err := d.pipelineDeals(r, v, bv.Pipeline)
	if err != nil {
		bv.Error = errorText(err)
	}
	bv.Capped = capped
	for _, deal := range deals {
		i, ok := index[str(deal["stage"])]
		if !ok {
			continue
		}
		bv.Columns[i].Deals = append(bv.Columns[i].Deals, boardCard{ID: str(deal["id"]), Title: str(deal["title"]),
			Value: money(deal["value_cents"], str(deal["currency"])), Stage: str(deal["stage"])})
	}
	d.render(w, r, v, "board", "Deal board", bv)
}

// pickPipeline is the pipeline with key, else the default one, else the first (nil for none).
func pickPipeline(pipelines []map[string]any, key string) map[string]any {
	var def map[string]any
	for _, p := range pipelines {
		if key != "" && str(p["key"]) == key {
			return p
		}
		if p["is_default"] == true && def == nil {
			def = p
		}
	}
	if def == nil && len(pipelines) > 0 {
		def = pipelines[0]
	}
	return def
}

// pipelineDeals pages through the pipeline's deals up to boardCap; capped says more exist.
func (d *Dashboard) pipelineDeals(r *http.Request, v *visit, pipeline string) (deals []map[string]any, capped bool, err *tools.Error) {
	args := map[string]any{"pipeline": pipeline}
	for {
		args["limit"] = json.Number("200")
		if left := boardCap - len(deals); left < 200 {
			args["limit"] = json.Number(strconv.Itoa(left))
		}
		list, err := d.call(r, v, "list_deals", args)
		if err != nil {
			return deals, false, err
		}
		deals = append(deals, listData(list)...)
		more := list["has_more"] == true
		if !more {
			return deals, false, nil
		}
		if len(deals) >= boardCap {
			return deals, true, nil
		}
		args["cursor"] = str(list["next_cursor"])
	}
}

// items is a JSON array's elements (none for anything else).
func items(v any) []any {
	a, _ := v.([]any)
	return a
}
