package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// CustomField is a custom field definition: a typed key of the metadata of one kind of record.
type CustomField struct {
	ID          string     `json:"id" doc:"Unique id, starting with fld_."`
	Object      string     `json:"object" enum:"custom_field" doc:"Always \"custom_field\"."`
	ObjectType  RecordKind `json:"object_type" doc:"The kind of record whose metadata the field types."`
	Key         string     `json:"key" doc:"The metadata key holding the value, e.g. plan for metadata.plan."`
	Label       string     `json:"label" doc:"Human-readable name."`
	Type        string     `json:"type" enum:"text,number,date,bool,select" doc:"What values must look like: text (a string), number, date (YYYY-MM-DD), bool, select (one of options)."`
	Options     []string   `json:"options" doc:"The allowed values of a select field; empty for other types."`
	Description *string    `json:"description" doc:"What the field is for."`
	Mode        string     `json:"mode" enum:"live,test" doc:"The mode of the key that created it."`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// CreateCustomFieldInput is the body of create_custom_field.
type CreateCustomFieldInput struct {
	ObjectType  RecordKind `json:"object_type" doc:"The kind of record the field belongs to."`
	Key         string     `json:"key" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"The metadata key, 1 to 64 lowercase letters, digits or _, starting with a letter; unique per object type."`
	Label       string     `json:"label" minLength:"1" maxLength:"200" doc:"Human-readable name, e.g. \"Plan\"."`
	Type        string     `json:"type" enum:"text,number,date,bool,select" doc:"text: a string of at most 10000 characters; number: a JSON number; date: a YYYY-MM-DD string; bool: true or false; select: one of options."`
	Options     []string   `json:"options,omitempty" minItems:"1" maxItems:"100" uniqueItems:"true" doc:"For select fields (required) and only them: the allowed values, 1 to 100 characters each."`
	Description *string    `json:"description,omitempty" maxLength:"1000" doc:"What the field is for, for people and models."`
}

// ListCustomFieldsInput selects the definitions to list.
type ListCustomFieldsInput struct {
	ObjectType RecordKind `json:"object_type,omitempty" doc:"Only the fields of this kind of record; default: every kind."`
	WholeListPage
}

// CustomFieldIDInput names one custom field.
type CustomFieldIDInput struct {
	ID CustomFieldID `json:"id" doc:"Id of the custom field (fld_…)."`
}

// maxOptionChars bounds one option of a select field.
const maxOptionChars = 100

func customFieldTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[ListCustomFieldsInput, List[CustomField]]{Info: Info{
			Name: "list_custom_fields", Title: "List custom fields", Toolset: "schema",
			Description: "List the workspace's custom fields: typed metadata keys of contacts, companies, deals or " +
				"activities (object_type narrows it). Values of a custom field live in the record's metadata under its key " +
				"and must match its type on every write. Returns {data, has_more, next_cursor} with every field (key, label, " +
				"type, options), by kind of record and then oldest first, unless limit is smaller (then page with cursor).",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/schema/fields", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListCustomFieldsInput) (List[CustomField], error) {
			return listCustomFields(ctx, s, in)
		}},
		&Capability[CreateCustomFieldInput, CustomField]{Info: Info{
			Name: "create_custom_field", Title: "Create custom field", Toolset: "schema",
			Description: "Define a custom field: a typed metadata key of one kind of record (object_type contact, company, " +
				"deal or activity), such as {\"object_type\":\"contact\",\"key\":\"plan\",\"label\":\"Plan\",\"type\":\"select\"," +
				"\"options\":[\"free\",\"pro\"]}. From then on every write of metadata.<key> must match the type; existing " +
				"values are not checked or changed. Filter with metadata->><key>. Keys are unique per object type " +
				"(already_exists). Returns the field.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/schema/fields", Status: http.StatusCreated},
		}, Handle: func(ctx context.Context, in CreateCustomFieldInput) (CustomField, error) {
			return createCustomField(ctx, s, in)
		}},
		&Capability[CustomFieldIDInput, Deleted]{Info: Info{
			Name: "delete_custom_field", Title: "Delete custom field", Toolset: "schema",
			Description: "Delete a custom field definition by id (fld_…). Records keep their metadata values under its key, " +
				"which become free-form again (nothing is rewritten). Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/schema/fields/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in CustomFieldIDInput) (Deleted, error) {
			return deleteCustomField(ctx, s, string(in.ID))
		}},
		schemaTool(s),
	}
}

func customFieldOut(f store.CustomField) CustomField {
	opts := f.Options
	if opts == nil {
		opts = []string{}
	}
	return CustomField{ID: f.ID, Object: "custom_field", ObjectType: RecordKind(f.ObjectType), Key: f.Key, Label: f.Label, Type: f.Type,
		Options: opts, Description: f.Description, Mode: string(f.Mode), CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC()}
}

func listCustomFields(ctx context.Context, s *store.Store, in ListCustomFieldsInput) (List[CustomField], error) {
	out := List[CustomField]{Object: "list"}
	var all []CustomField
	err := inTx(ctx, s, func(tx *store.Tx) error {
		fields, err := store.ListCustomFields(ctx, tx, string(in.ObjectType))
		for _, f := range fields {
			all = append(all, customFieldOut(f))
		}
		return err
	})
	if err != nil {
		return out, err
	}
	out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(f CustomField) string { return f.ID })
	return out, err
}

// checkOptions says what is wrong with the options of a field of type typ.
func checkOptions(typ string, options []string) []schemas.FieldError {
	if typ != schemas.FieldSelect {
		if options != nil {
			return []schemas.FieldError{{Field: "options", Message: "is only for select fields; remove it"}}
		}
		return nil
	}
	if len(options) == 0 {
		return []schemas.FieldError{{Field: "options", Message: "is required for a select field: list its allowed values"}}
	}
	var bad []schemas.FieldError
	for i, o := range options {
		if n := utf8.RuneCountInString(o); n == 0 || n > maxOptionChars || schemas.IsBlank(o) {
			bad = append(bad, schemas.FieldError{Field: fmt.Sprintf("options.%d", i), Message: fmt.Sprintf("must be 1 to %d characters long, and not blank", maxOptionChars)})
		}
	}
	return bad
}

func createCustomField(ctx context.Context, s *store.Store, in CreateCustomFieldInput) (CustomField, error) {
	if bad := checkOptions(in.Type, in.Options); bad != nil {
		return CustomField{}, ValidationFailed(bad)
	}
	var out CustomField
	err := inTx(ctx, s, func(tx *store.Tx) error {
		f, err := store.CreateCustomField(ctx, tx, store.NewCustomField{ObjectType: string(in.ObjectType), Key: in.Key,
			Label: in.Label, Type: in.Type, Options: in.Options, Description: in.Description})
		if err != nil {
			return err
		}
		out = customFieldOut(f)
		return tx.RecordEvents(ctx, event("custom_field.created", out, nil))
	})
	switch {
	case errors.Is(err, store.ErrCustomFieldKeyTaken):
		return CustomField{}, keyTaken(ctx, s, in)
	case errors.Is(err, store.ErrTooManyCustomFields):
		e := NewError(CodeValidationFailed, "Invalid input: %s already have %d custom fields, the most allowed per object type. Delete one you no longer need first.",
			nameOf(string(in.ObjectType)).many, store.MaxCustomFields)
		e.Param = "object_type"
		return CustomField{}, e
	}
	return out, err
}

// keyTaken is already_exists naming the field that has the key.
func keyTaken(ctx context.Context, s *store.Store, in CreateCustomFieldInput) error {
	var existing store.CustomField
	if err := inTx(ctx, s, func(tx *store.Tx) error {
		var err error
		existing, err = store.CustomFieldByKey(ctx, tx, string(in.ObjectType), in.Key)
		return err
	}); err != nil {
		return err
	}
	e := NewError(CodeAlreadyExists, "%s already have a custom field with key %q (%s). Use it, or pick another key.", capitalized(nameOf(string(in.ObjectType)).many), in.Key, existing.ID)
	e.Param, e.ExistingID = "key", existing.ID
	return e
}

func deleteCustomField(ctx context.Context, s *store.Store, id string) (Deleted, error) {
	err := inTx(ctx, s, func(tx *store.Tx) error {
		f, err := store.DeleteCustomField(ctx, tx, id)
		if err != nil {
			return err
		}
		return tx.RecordEvents(ctx, event("custom_field.deleted", customFieldOut(f), nil))
	})
	if errors.Is(err, store.ErrNotFound) {
		return Deleted{}, NotFound("custom_field", id)
	}
	if err != nil {
		return Deleted{}, err
	}
	return Deleted{ID: id, Object: "custom_field", Deleted: true}, nil
}

// capitalized is s with its first letter upper case, to start a sentence.
func capitalized(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
