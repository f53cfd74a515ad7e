package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Plans are the plans a workspace can be on (workspaces.plan); new workspaces start on free.
var Plans = []string{PlanFree, PlanTeam}

// The plans.
const (
	PlanFree = "free"
	PlanTeam = "team"
)

// ErrUnknownPlan means a plan name is not one of Plans.
var ErrUnknownPlan = errors.New("store: unknown plan")

// SetWorkspacePlan moves the workspace called name to plan. It takes effect on the next
// request, since requests read the plan as they run. A missing workspace is ErrNotFound.
func (s *Store) SetWorkspacePlan(ctx context.Context, name, plan string) error {
	if !slices.Contains(Plans, plan) {
		return fmt.Errorf("%w %q (want one of %v)", ErrUnknownPlan, plan, Plans)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE workspaces SET plan = $2 WHERE name = $1`, name, plan)
	if err != nil {
		return fmt.Errorf("store: set plan: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// WorkspacePlan returns the plan of the transaction's workspace, as of now.
func (tx *Tx) WorkspacePlan(ctx context.Context) (string, error) {
	var plan string
	err := tx.tx.QueryRow(ctx, `SELECT plan FROM workspaces WHERE id = $1`, tx.t.WorkspaceID).Scan(&plan)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: workspace plan: %w", err)
	}
	return plan, nil
}
