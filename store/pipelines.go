package store

import (
	"context"
	"slices"
)

// UnknownOptionError means a value is not one of the tenant's configured options.
type UnknownOptionError struct {
	Field string
	Value string
	Valid []string
}

func (e *UnknownOptionError) Error() string { return "store: unknown " + e.Field + " " + e.Value }

// ResolveStage returns the pipeline and stage a deal should be in: pipeline "" means the
// default pipeline and stage "" its first stage. Unknown keys are *UnknownOptionError
// listing the valid ones.
func ResolveStage(ctx context.Context, tx *Tx, pipeline, stage string) (string, string, error) {
	rows, err := tx.tx.Query(ctx, `
		SELECT p.key, p.is_default, s.key
		FROM pipelines p LEFT JOIN pipeline_stages s
		  ON s.workspace_id = p.workspace_id AND s.mode = p.mode AND s.pipeline = p.key
		WHERE p.workspace_id = $1 AND p.mode = $2
		ORDER BY p.position, p.key, s.position, s.key`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return "", "", wrap("resolve stage", err)
	}
	defer rows.Close()
	var pipelines []string
	stages := map[string][]string{}
	def := ""
	for rows.Next() {
		var p string
		var isDefault bool
		var s *string
		if err := rows.Scan(&p, &isDefault, &s); err != nil {
			return "", "", wrap("resolve stage", err)
		}
		if !slices.Contains(pipelines, p) {
			pipelines = append(pipelines, p)
		}
		if isDefault {
			def = p
		}
		if s != nil {
			stages[p] = append(stages[p], *s)
		}
	}
	if err := rows.Err(); err != nil {
		return "", "", wrap("resolve stage", err)
	}
	if pipeline == "" {
		pipeline = def
	}
	if !slices.Contains(pipelines, pipeline) {
		return "", "", &UnknownOptionError{Field: "pipeline", Value: pipeline, Valid: pipelines}
	}
	valid := stages[pipeline]
	if stage == "" {
		if len(valid) == 0 {
			return "", "", &UnknownOptionError{Field: "stage", Valid: valid}
		}
		return pipeline, valid[0], nil
	}
	if !slices.Contains(valid, stage) {
		return "", "", &UnknownOptionError{Field: "stage", Value: stage, Valid: valid}
	}
	return pipeline, stage, nil
}
