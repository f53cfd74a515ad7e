package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// SealedSecret is one credential stored sealed (package secrets), with what it is bound to.
type SealedSecret struct {
	Kind        string // email_integration, or webhook_endpoint (also for a previous_secret still signing)
	WorkspaceID string
	Mode        auth.Mode
	ID          string // the webhook endpoint's id; "" for an email integration
	Sealed      string
}

// sealedColumns are where sealed credentials live: kind, the query listing them, and the
// statement replacing one ($1 workspace, $2 mode, $3 id, $4 old value, $5 new value).
var sealedColumns = []struct{ kind, list, replace string }{
	{"email_integration",
		`SELECT workspace_id, mode, '', api_key_sealed FROM email_integrations`,
		`UPDATE email_integrations SET api_key_sealed = $5 WHERE workspace_id = $1 AND mode = $2 AND $3 = '' AND api_key_sealed = $4`},
	{"webhook_endpoint",
		`SELECT workspace_id, mode, id, secret FROM webhook_endpoints`,
		`UPDATE webhook_endpoints SET secret = $5 WHERE workspace_id = $1 AND mode = $2 AND id = $3 AND secret = $4`},
	{"webhook_endpoint",
		`SELECT workspace_id, mode, id, previous_secret FROM webhook_endpoints WHERE previous_secret IS NOT NULL`,
		`UPDATE webhook_endpoints SET previous_secret = $5 WHERE workspace_id = $1 AND mode = $2 AND id = $3 AND previous_secret = $4`},
}

// RewrapSecrets passes every sealed credential of every tenant to rewrap and stores what
// it returns when it differs, one statement each (a value changed meanwhile is left as it
// is); it returns how many it changed. It is the owner's work (`relm secrets rewrap`),
// after the server secret changed.
func (a *Admin) RewrapSecrets(ctx context.Context, rewrap func(SealedSecret) (string, error)) (int, error) {
	changed := 0
	for _, col := range sealedColumns {
		rows, err := a.pool.Query(ctx, col.list)
		if err != nil {
			return changed, fmt.Errorf("store: rewrap: %w", err)
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealedSecret, error) {
			s := SealedSecret{Kind: col.kind}
			err := r.Scan(&s.WorkspaceID, &s.Mode, &s.ID, &s.Sealed)
			return s, err
		})
		if err != nil {
			return changed, fmt.Errorf("store: rewrap: %w", err)
		}
		for _, s := range all {
			next, err := rewrap(s)
			if err != nil {
				return changed, fmt.Errorf("store: rewrap a %s secret of workspace %s (%s): %w", s.Kind, s.WorkspaceID, s.Mode, err)
			}
			if next == s.Sealed {
				continue
			}
			tag, err := a.pool.Exec(ctx, col.replace, s.WorkspaceID, s.Mode, s.ID, s.Sealed, next)
			if err != nil {
				return changed, fmt.Errorf("store: rewrap: %w", err)
			}
			changed += int(tag.RowsAffected())
		}
	}
	return changed, nil
}
