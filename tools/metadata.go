package tools

import (
	"context"
	"fmt"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// The metadata validator: every write of record metadata (create, update, batch import)
// checks the values it sets against the caller's custom fields for the record's kind, in
// the write's own transaction, holding the tenant's schema lock until it commits, so a
// definition created or deleted concurrently applies either wholly before or wholly after.

// checkMetadata validates the values metadata sets (null values and keys without a
// definition are not checked), naming bad keys path.key. It costs nothing when metadata
// sets no value.
func checkMetadata(ctx context.Context, s *store.Store, tx *store.Tx, kind, path string, metadata map[string]any) error {
	if !setsValues(metadata) {
		return nil
	}
	m, err := s.MetadataSchema(ctx, tx, kind, true)
	if err != nil {
		return err
	}
	bad, err := m.Validate(path, metadata)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return ValidationFailed(bad)
	}
	return nil
}

// checkMetadataPatch validates an update's metadata patch: keys set to a value are
// checked; null (removing a key, or metadata: null removing all) is always allowed.
func checkMetadataPatch(ctx context.Context, s *store.Store, tx *store.Tx, kind string, patch schemas.Nullable[map[string]any]) error {
	if !patch.Set || patch.Null {
		return nil
	}
	return checkMetadata(ctx, s, tx, kind, "metadata", patch.Value)
}

// checkImportMetadata validates the metadata of every import row at once, naming bad
// values contacts.<row>.metadata.<key>.
func checkImportMetadata(ctx context.Context, s *store.Store, tx *store.Tx, rows []store.ContactRow) error {
	sets := false
	for _, r := range rows {
		sets = sets || setsValues(r.Metadata)
	}
	if !sets {
		return nil
	}
	m, err := s.MetadataSchema(ctx, tx, store.Contacts.Kind, true)
	if err != nil {
		return err
	}
	var bad []schemas.FieldError
	for i, r := range rows {
		errs, err := m.Validate(fmt.Sprintf("contacts.%d.metadata", i), r.Metadata)
		if err != nil {
			return err
		}
		bad = append(bad, errs...)
	}
	if len(bad) > 0 {
		return ValidationFailed(bad)
	}
	return nil
}

// setsValues reports whether metadata gives any key a non-null value.
func setsValues(metadata map[string]any) bool {
	for _, v := range metadata {
		if v != nil {
			return true
		}
	}
	return false
}

// metadataFilterFields types the metadata keys the filters name by the caller's custom
// fields for kind; nil (and no query) when no filter names a metadata key.
func metadataFilterFields(ctx context.Context, s *store.Store, tx *store.Tx, kind string, filters []map[string]any) (map[string]filter.MetadataField, error) {
	if !filter.NamesMetadata(filters) {
		return nil, nil
	}
	m, err := s.MetadataSchema(ctx, tx, kind, false)
	if err != nil {
		return nil, err
	}
	return m.FilterFields(), nil
}
