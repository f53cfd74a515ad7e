package store

import "context"

// SchemaPipeline is a pipeline as the workspace schema describes it, with its stages.
type SchemaPipeline struct {
	Key       string
	Label     string
	Position  int
	IsDefault bool
	Stages    []SchemaStage // in position order
}

// SchemaStage is a stage of a SchemaPipeline.
type SchemaStage struct {
	Key      string
	Label    string
	Position int
	IsWon    bool
	IsLost   bool
}

// SchemaPipelines reads the tenant's pipelines and their stages, both in position order,
// in one statement.
func SchemaPipelines(ctx context.Context, tx *Tx) ([]SchemaPipeline, error) {
	rows, err := tx.tx.Query(ctx, `
		SELECT p.key, p.label, p.position, p.is_default, s.key, s.label, s.position, s.is_won, s.is_lost
		FROM pipelines p LEFT JOIN pipeline_stages s
		  ON s.workspace_id = p.workspace_id AND s.mode = p.mode AND s.pipeline = p.key
		WHERE p.workspace_id = $1 AND p.mode = $2
		ORDER BY p.position, p.key, s.position, s.key`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return nil, wrap("read pipelines", err)
	}
	defer rows.Close()
	var out []SchemaPipeline
	for rows.Next() {
		var p SchemaPipeline
		var sKey, sLabel *string
		var sPos *int
		var sWon, sLost *bool
		if err := rows.Scan(&p.Key, &p.Label, &p.Position, &p.IsDefault, &sKey, &sLabel, &sPos, &sWon, &sLost); err != nil {
			return nil, wrap("read pipelines", err)
		}
		if n := len(out); n == 0 || out[n-1].Key != p.Key {
			p.Stages = []SchemaStage{}
			out = append(out, p)
		}
		if sKey != nil {
			last := &out[len(out)-1]
			last.Stages = append(last.Stages, SchemaStage{Key: *sKey, Label: *sLabel, Position: *sPos, IsWon: *sWon, IsLost: *sLost})
		}
	}
	return out, wrap("read pipelines", rows.Err())
}
