package dashboard

import (
	"encoding/json"
	"net/http"
)

var _ = page("GET /schema", (*Dashboard).schemaPage)

// objectTypes are the kinds of record custom fields belong to, in the order shown.
var objectTypes = []string{"contact", "company", "deal", "activity"}

// fieldGroup is one kind of record's custom fields.
type fieldGroup struct {
	Type   string
	Fields []map[string]any
}

// pipelineRow is a pipeline as the page shows it, with the positions its move buttons send.
type pipelineRow struct {
	Key, Label  string
	Default     bool
	Up, Down    int
	First, Last bool
	Stages      []stageRow
}

// stageRow is a stage with the positions its move buttons send.
type stageRow struct {
	Pipeline, Key, Label string
	Won, Lost            bool
	Up, Down             int
	First, Last          bool
	Number               int
}

// schemaPage shows the custom fields by kind of record and the pipelines with their
// stages, with forms changing them through /actions.
func (d *Dashboard) schemaPage(w http.ResponseWriter, r *http.Request, v *visit) {
	data := map[string]any{"Manage": v.canManage(), "Types": objectTypes}
	fields, err := d.call(r, v, "list_custom_fields", map[string]any{"limit": json.Number("200")})
	if err != nil {
		data["FieldsError"] = errorText(err)
	}
	byType := map[string][]map[string]any{}
	for _, f := range listData(fields) {
		t := str(f["object_type"])
		byType[t] = append(byType[t], f)
	}
	var groups []fieldGroup
	for _, t := range objectTypes {
		groups = append(groups, fieldGroup{Type: t, Fields: byType[t]})
	}
	data["Groups"] = groups
	pipes, err := d.call(r, v, "list_pipelines", map[string]any{"limit": json.Number("200")})
	if err != nil {
		data["PipelinesError"] = errorText(err)
	}
	data["Pipelines"] = pipelineRows(listData(pipes))
	d.render(w, r, v, "schema", "Schema", data)
}

// pipelineRows are list_pipelines' pipelines with their stages, in order.
func pipelineRows(list []map[string]any) []pipelineRow {
	rows := make([]pipelineRow, 0, len(list))
	for i, p := range list {
		row := pipelineRow{Key: str(p["key"]), Label: str(p["label"]), Default: p["is_default"] == true,
			Up: max(i-1, 0), Down: i + 1, First: i == 0, Last: i == len(list)-1}
		stages, _ := p["stages"].([]any)
		for j, s := range stages {
			m, _ := s.(map[string]any)
			row.Stages = append(row.Stages, stageRow{Pipeline: row.Key, Key: str(m["key"]), Label: str(m["label"]),
				Won: m["is_won"] == true, Lost: m["is_lost"] == true, Number: j + 1,
				Up: max(j-1, 0), Down: j + 1, First: j == 0, Last: j == len(stages)-1})
		}
		rows = append(rows, row)
	}
	return rows
}
