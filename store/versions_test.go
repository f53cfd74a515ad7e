package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/relmcrm/relm/store"
)

// TestVersionsMoveOnEveryChange: the database moves a record's version on every UPDATE that
// changes it, whatever issues it (the generic Update, a foreign key's ON DELETE SET NULL
// action, a cascaded stage key), records the fields changed per version, and leaves a row
// updated to the values it has as it was.
func TestVersionsMoveOnEveryChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, callers := tenants(t)
	err := s.InTx(ctx, callers[0], func(tx *store.Tx) error {
		cmp, err := store.Insert(ctx, tx, store.Companies, store.Values{"name": "Acme", "metadata": map[string]any{}})
		if err != nil {
			return err
		}
		con, err := store.Insert(ctx, tx, store.Contacts, store.Values{"email": "v@x.com", "company_id": cmp.ID, "metadata": map[string]any{}})
		if err != nil {
			return err
		}
		if con.Version != 1 || len(con.FieldVersions) != 0 {
			t.Errorf("new contact: version %d, field_versions %v", con.Version, con.FieldVersions)
		}
		_, after, err := store.Update(ctx, tx, store.Contacts, con.ID, func(store.Contact) (store.Changes, error) {
			return store.Changes{Set: map[string]any{"first_name": "Ada"}}, nil
		})
		if err != nil {
			return err
		}
		if after.Version != 2 || !slices.Equal(after.ChangedSince(1), []string{"first_name"}) {
			t.Errorf("after an update: version %d, changed since 1 %v", after.Version, after.ChangedSince(1))
		}
		_, same, err := store.Update(ctx, tx, store.Contacts, con.ID, func(store.Contact) (store.Changes, error) {
			return store.Changes{Set: map[string]any{"first_name": "Ada"}}, nil
		})
		if err != nil {
			return err
		}
		if same.Version != 2 || !same.UpdatedAt.Equal(after.UpdatedAt) {
			t.Errorf("after a change of nothing: version %d, updated_at %v (was %v)", same.Version, same.UpdatedAt, after.UpdatedAt)
		}
		// The foreign key's ON DELETE SET NULL clears company_id: a change like any other.
		if _, err := tx.Raw().Exec(ctx, `DELETE FROM companies WHERE id = $1`, cmp.ID); err != nil {
			return err
		}
		got, err := store.Get(ctx, tx, store.Contacts, con.ID)
		if err != nil {
			return err
		}
		if got.CompanyID != nil || got.Version != 3 || !slices.Equal(got.ChangedSince(1), []string{"company_id", "first_name"}) ||
			!slices.Equal(got.ChangedSince(2), []string{"company_id"}) || got.ChangedSince(3) != nil {
			t.Errorf("after the company's deletion: company %v, version %d, field_versions %v", got.CompanyID, got.Version, got.FieldVersions)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
