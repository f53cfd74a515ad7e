package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
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

// Pipeline is a sales process: an ordered set of stages a deal moves through. Pipelines
// and stages are keyed by immutable keys, unique per workspace and mode (stages: per
// pipeline), and kept in a dense position order (0..n-1).
type Pipeline struct {
	Key       string          `db:"key"`
	Label     string          `db:"label"`
	Position  int             `db:"position"`
	IsDefault bool            `db:"is_default"`
	Mode      auth.Mode       `db:"mode"`
	CreatedAt time.Time       `db:"created_at"`
	UpdatedAt time.Time       `db:"updated_at"`
	Stages    []PipelineStage `db:"-"` // in position order
}

// PipelineStage is one step of a pipeline.
type PipelineStage struct {
	Pipeline  string    `db:"pipeline"`
	Key       string    `db:"key"`
	Label     string    `db:"label"`
	Position  int       `db:"position"`
	IsWon     bool      `db:"is_won"`
	IsLost    bool      `db:"is_lost"`
	Mode      auth.Mode `db:"mode"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// ErrKeyTaken means a pipeline (or a stage of the pipeline) already has the key.
var ErrKeyTaken = errors.New("store: key already taken")

// ErrInUse means deals are still in the pipeline or stage being deleted.
var ErrInUse = errors.New("store: still used by deals")

// ListPipelines returns the tenant's pipelines with their stages, in position order.
func ListPipelines(ctx context.Context, tx *Tx) ([]Pipeline, error) {
	rows, err := tx.tx.Query(ctx, `SELECT key, label, position, is_default, mode, created_at, updated_at
		FROM pipelines WHERE workspace_id = $1 AND mode = $2 ORDER BY position, key`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return nil, wrap("list pipelines", err)
	}
	pipelines, err := collect[Pipeline](rows)
	if err != nil {
		return nil, wrap("list pipelines", err)
	}
	rows, err = tx.tx.Query(ctx, `SELECT pipeline, key, label, position, is_won, is_lost, mode, created_at, updated_at
		FROM pipeline_stages WHERE workspace_id = $1 AND mode = $2 ORDER BY pipeline, position, key`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return nil, wrap("list pipeline stages", err)
	}
	stages, err := collect[PipelineStage](rows)
	if err != nil {
		return nil, wrap("list pipeline stages", err)
	}
	for i := range pipelines {
		pipelines[i].Stages = []PipelineStage{}
		for _, s := range stages {
			if s.Pipeline == pipelines[i].Key {
				pipelines[i].Stages = append(pipelines[i].Stages, s)
			}
		}
	}
	return pipelines, nil
}

// LockPipelines takes the tenant's pipeline lock until the transaction ends and then
// returns the pipelines like ListPipelines. Every change to pipelines or stages takes this
// lock first, so such changes run one at a time per workspace and mode, each seeing the
// previous one's result. It is a transaction-level advisory lock on the tenant rather than
// row locks: rows another change adds while this one waits would escape a row lock.
func LockPipelines(ctx context.Context, tx *Tx) ([]Pipeline, error) {
	if _, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('relm:pipelines'), hashtext($1::text || ':' || $2::text))`,
		tx.t.WorkspaceID, string(tx.t.Mode)); err != nil {
		return nil, wrap("lock pipelines", err)
	}
	return ListPipelines(ctx, tx)
}

// NewPipeline is a pipeline to insert at Position (0..n; the caller clamps it).
type NewPipeline struct {
	Key       string
	Label     string
	Position  int
	IsDefault bool // the caller unsets the previous default first (SetDefaultPipeline)
}

// InsertPipeline adds a pipeline at its position, moving those at or after it down one.
func InsertPipeline(ctx context.Context, tx *Tx, p NewPipeline) error {
	if _, err := tx.tx.Exec(ctx, `UPDATE pipelines SET position = position + 1, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND position >= $3`, tx.t.WorkspaceID, tx.t.Mode, p.Position); err != nil {
		return wrap("insert pipeline", err)
	}
	_, err := tx.tx.Exec(ctx, `INSERT INTO pipelines (workspace_id, mode, key, label, position, is_default)
		VALUES ($1, $2, $3, $4, $5, $6)`, tx.t.WorkspaceID, tx.t.Mode, p.Key, p.Label, p.Position, p.IsDefault)
	return wrap("insert pipeline", pipelineError(err))
}

// NewStage is a stage to insert at Position (0..n; the caller clamps it).
type NewStage struct {
	Key           string
	Label         string
	Position      int
	IsWon, IsLost bool
}

// InsertStage adds a stage to pipeline at its position, moving those at or after it down one.
func InsertStage(ctx context.Context, tx *Tx, pipeline string, s NewStage) error {
	if _, err := tx.tx.Exec(ctx, `UPDATE pipeline_stages SET position = position + 1, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND pipeline = $3 AND position >= $4`,
		tx.t.WorkspaceID, tx.t.Mode, pipeline, s.Position); err != nil {
		return wrap("insert stage", err)
	}
	_, err := tx.tx.Exec(ctx, `INSERT INTO pipeline_stages (workspace_id, mode, pipeline, key, label, position, is_won, is_lost)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tx.t.WorkspaceID, tx.t.Mode, pipeline, s.Key, s.Label, s.Position, s.IsWon, s.IsLost)
	return wrap("insert stage", pipelineError(err))
}

// MovePipeline moves pipeline key from position from to position to (both within 0..n-1),
// shifting the ones in between by one so the order stays dense.
func MovePipeline(ctx context.Context, tx *Tx, key string, from, to int) error {
	if from == to {
		return nil
	}
	_, err := tx.tx.Exec(ctx, `UPDATE pipelines SET updated_at = clock_timestamp(), position = CASE
		    WHEN key = $3 THEN $5::int
		    WHEN $4::int < $5::int THEN position - 1
		    ELSE position + 1 END
		WHERE workspace_id = $1 AND mode = $2 AND (key = $3 OR position BETWEEN least($4::int, $5::int) AND greatest($4::int, $5::int))`,
		tx.t.WorkspaceID, tx.t.Mode, key, from, to)
	return wrap("move pipeline", err)
}

// MoveStage is MovePipeline for a stage of pipeline.
func MoveStage(ctx context.Context, tx *Tx, pipeline, key string, from, to int) error {
	if from == to {
		return nil
	}
	_, err := tx.tx.Exec(ctx, `UPDATE pipeline_stages SET updated_at = clock_timestamp(), position = CASE
		    WHEN key = $4 THEN $6::int
		    WHEN $5::int < $6::int THEN position - 1
		    ELSE position + 1 END
		WHERE workspace_id = $1 AND mode = $2 AND pipeline = $3
		  AND (key = $4 OR position BETWEEN least($5::int, $6::int) AND greatest($5::int, $6::int))`,
		tx.t.WorkspaceID, tx.t.Mode, pipeline, key, from, to)
	return wrap("move stage", err)
}

// SetPipeline sets columns of pipeline key (label, is_default), touching updated_at only
// when a value changes. Making a pipeline the default needs the previous one unset first.
func SetPipeline(ctx context.Context, tx *Tx, key string, set map[string]any) error {
	return setColumns(ctx, tx, "pipelines", []string{"key"}, []any{key}, set)
}

// SetStage sets columns of a stage (label, is_won, is_lost) like SetPipeline.
func SetStage(ctx context.Context, tx *Tx, pipeline, key string, set map[string]any) error {
	return setColumns(ctx, tx, "pipeline_stages", []string{"pipeline", "key"}, []any{pipeline, key}, set)
}

// UnsetDefaultPipeline clears is_default on every pipeline of the tenant but key.
func UnsetDefaultPipeline(ctx context.Context, tx *Tx, except string) error {
	_, err := tx.tx.Exec(ctx, `UPDATE pipelines SET is_default = false, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND is_default AND key <> $3`, tx.t.WorkspaceID, tx.t.Mode, except)
	return wrap("unset default pipeline", err)
}

// setColumns updates the trusted columns of set on the tenant's row of table identified by
// the trusted key columns, when any value differs.
func setColumns(ctx context.Context, tx *Tx, table string, keyCols []string, keyVals []any, set map[string]any) error {
	if len(set) == 0 {
		return nil
	}
	q := query{args: []any{tx.t.WorkspaceID, tx.t.Mode}}
	where := []string{"workspace_id = $1", "mode = $2"}
	for i, c := range keyCols {
		where = append(where, c+" = "+q.arg(keyVals[i]))
	}
	sets := []string{"updated_at = clock_timestamp()"}
	var differs []string
	for _, c := range slices.Sorted(maps.Keys(set)) {
		p := q.arg(set[c])
		sets = append(sets, c+" = "+p)
		differs = append(differs, c+" IS DISTINCT FROM "+p)
	}
	_, err := tx.tx.Exec(ctx, `UPDATE `+table+` SET `+strings.Join(sets, ", ")+`
		WHERE `+strings.Join(where, " AND ")+` AND (`+strings.Join(differs, " OR ")+`)`, q.args...)
	return wrap("update "+table, err)
}

// DeletePipeline removes pipeline key and its stages and closes the gap in the order. It
// is ErrInUse if a deal is still in the pipeline.
func DeletePipeline(ctx context.Context, tx *Tx, key string) error {
	var pos int
	err := tx.tx.QueryRow(ctx, `DELETE FROM pipelines WHERE workspace_id = $1 AND mode = $2 AND key = $3
		RETURNING position`, tx.t.WorkspaceID, tx.t.Mode, key).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return wrap("delete pipeline", pipelineError(err))
	}
	_, err = tx.tx.Exec(ctx, `UPDATE pipelines SET position = position - 1, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND position > $3`, tx.t.WorkspaceID, tx.t.Mode, pos)
	return wrap("delete pipeline", err)
}

// DeleteStage removes a stage of pipeline and closes the gap in the order. It is ErrInUse
// if a deal is still in the stage.
func DeleteStage(ctx context.Context, tx *Tx, pipeline, key string) error {
	var pos int
	err := tx.tx.QueryRow(ctx, `DELETE FROM pipeline_stages
		WHERE workspace_id = $1 AND mode = $2 AND pipeline = $3 AND key = $4 RETURNING position`,
		tx.t.WorkspaceID, tx.t.Mode, pipeline, key).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return wrap("delete stage", pipelineError(err))
	}
	_, err = tx.tx.Exec(ctx, `UPDATE pipeline_stages SET position = position - 1, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND pipeline = $3 AND position > $4`,
		tx.t.WorkspaceID, tx.t.Mode, pipeline, pos)
	return wrap("delete stage", err)
}

// CountDeals counts the tenant's deals in pipeline, or in one of its stages when stage is set.
func CountDeals(ctx context.Context, tx *Tx, pipeline, stage string) (int, error) {
	var n int
	err := tx.tx.QueryRow(ctx, `SELECT count(*) FROM deals
		WHERE workspace_id = $1 AND mode = $2 AND pipeline = $3 AND ($4::text = '' OR stage = $4::text)`,
		tx.t.WorkspaceID, tx.t.Mode, pipeline, stage).Scan(&n)
	return n, wrap("count deals", err)
}

// pipelineError names the constraint violations pipeline changes can meet: a taken key,
// or a deal still referencing a stage being deleted (the backstop behind CountDeals).
func pipelineError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "23505" && (pgErr.ConstraintName == "pipelines_pkey" || pgErr.ConstraintName == "pipeline_stages_pkey"):
		return ErrKeyTaken
	case pgErr.Code == "23503" && pgErr.ConstraintName == "deals_stage_fkey":
		return ErrInUse
	}
	return err
}
