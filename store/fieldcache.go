package store

import (
	"context"
	"sync"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store/filter"
)

// MetadataSchema is the custom fields of one object type for one tenant, at one version
// of the tenant's definitions, with their compiled JSON Schema.
type MetadataSchema struct {
	Version int64
	Fields  []CustomField

	once      sync.Once
	validator *schemas.MetadataValidator
	err       error
}

// Validate checks the values metadata sets for defined keys (see schemas.MetadataValidator),
// naming bad ones path.key. The schema is compiled on first use and then cached.
func (m *MetadataSchema) Validate(path string, metadata map[string]any) ([]schemas.FieldError, error) {
	if len(m.Fields) == 0 || len(metadata) == 0 {
		return nil, nil
	}
	m.once.Do(func() {
		fields := make([]schemas.CustomField, len(m.Fields))
		for i, f := range m.Fields {
			fields[i] = schemas.CustomField{Key: f.Key, Type: f.Type, Options: f.Options}
		}
		m.validator, m.err = schemas.CompileMetadata("metadata/"+m.Fields[0].ObjectType, fields)
	})
	if m.err != nil {
		return nil, m.err
	}
	return m.validator.Validate(path, metadata), nil
}

// FilterFields types the defined keys for the filter language: numbers and dates compare
// as such, selects take their options only; other metadata keys stay untyped.
func (m *MetadataSchema) FilterFields() map[string]filter.MetadataField {
	if len(m.Fields) == 0 {
		return nil
	}
	out := make(map[string]filter.MetadataField, len(m.Fields))
	for _, f := range m.Fields {
		switch f.Type {
		case schemas.FieldText:
			out[f.Key] = filter.MetadataField{Kind: filter.Text}
		case schemas.FieldNumber:
			out[f.Key] = filter.MetadataField{Kind: filter.Number}
		case schemas.FieldDate:
			out[f.Key] = filter.MetadataField{Kind: filter.Date}
		case schemas.FieldBool:
			out[f.Key] = filter.MetadataField{Kind: filter.Bool}
		case schemas.FieldSelect:
			out[f.Key] = filter.MetadataField{Kind: filter.Enum, Values: f.Options}
		}
	}
	return out
}

// maxCachedTenants bounds the schema cache of one Store.
const maxCachedTenants = 10000

// schemaCache holds, per tenant, the metadata schemas of the latest definitions version
// this process has seen. The zero value is ready to use.
type schemaCache struct {
	mu      sync.Mutex
	tenants map[tenantKey]*tenantSchemas
}

type tenantKey struct {
	workspace string
	mode      auth.Mode
}

type tenantSchemas struct {
	version int64
	byType  map[string]*MetadataSchema
}

func (c *schemaCache) get(k tenantKey, version int64) *tenantSchemas {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts := c.tenants[k]; ts != nil && ts.version == version {
		return ts
	}
	return nil
}

func (c *schemaCache) put(k tenantKey, ts *tenantSchemas) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[tenantKey]*tenantSchemas{}
	}
	if cur := c.tenants[k]; cur != nil && cur.version > ts.version {
		return // a newer version is already cached
	}
	if _, ok := c.tenants[k]; !ok && len(c.tenants) >= maxCachedTenants {
		for evict := range c.tenants { // any one: a miss only costs a reload
			delete(c.tenants, evict)
			break
		}
	}
	c.tenants[k] = ts
}

// MetadataSchema returns the caller's custom fields for objectType, compiled and cached
// per process by the tenant's definitions version, which is read from the database in tx
// on every call: a definition changed by any server process is seen at once.
//
// forWrite is for transactions that write metadata: it also holds the tenant's schema lock
// (shared) until tx ends, so no definition can change between validating the values and
// committing them. Definition changes take the lock exclusively.
func (s *Store) MetadataSchema(ctx context.Context, tx *Tx, objectType string, forWrite bool) (*MetadataSchema, error) {
	version, err := schemaVersion(ctx, tx, forWrite)
	if err != nil {
		return nil, err
	}
	k := tenantKey{workspace: tx.t.WorkspaceID, mode: tx.t.Mode}
	ts := s.fieldSchemas.get(k, version)
	if ts == nil {
		v, fields, err := loadCustomFields(ctx, tx)
		if err != nil {
			return nil, err
		}
		ts = &tenantSchemas{version: v, byType: map[string]*MetadataSchema{}}
		for _, t := range CustomFieldObjectTypes {
			ts.byType[t] = &MetadataSchema{Version: v}
		}
		for _, f := range fields {
			if m := ts.byType[f.ObjectType]; m != nil {
				m.Fields = append(m.Fields, f)
			}
		}
		s.fieldSchemas.put(k, ts)
	}
	if m := ts.byType[objectType]; m != nil {
		return m, nil
	}
	return &MetadataSchema{Version: ts.version}, nil
}
