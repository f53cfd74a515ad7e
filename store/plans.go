package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Plans are the plans a workspace can be on (workspaces.plan), lowest first; new workspaces
// start on free.
var Plans = []string{PlanFree, PlanTeam}

// The plans.
const (
	PlanFree = "free"
	PlanTeam = "team"
)

// ErrUnknownPlan means a plan name is not one of Plans.
var ErrUnknownPlan = errors.New("store: unknown plan")

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
