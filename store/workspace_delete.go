package store

import (
	"context"
	"fmt"
)

// DeleteWorkspace permanently removes a workspace with everything in it: every tenant table
// references workspaces ON DELETE CASCADE, so its keys, records, events, logs and counters
// go in the same statement. An unknown id is ErrNotFound. Eval runs use it to remove the
// throwaway workspaces they create.
func (s *Store) DeleteWorkspace(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete workspace: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
