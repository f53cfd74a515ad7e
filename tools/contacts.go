package tools

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Contact is a person in the CRM.
type Contact struct {
	ID        string         `json:"id" doc:"Unique id, starting with con_."`
	Object    string         `json:"object" enum:"contact" doc:"Always \"contact\"."`
	Email     *string        `json:"email" doc:"Email address; unique within the workspace and mode, case-insensitively."`
	FirstName *string        `json:"first_name"`
	LastName  *string        `json:"last_name"`
	Phone     *string        `json:"phone"`
	CompanyID *string        `json:"company_id" doc:"Id of the company the person works for (cmp_…)."`
	Metadata  map[string]any `json:"metadata" doc:"Key/value data, as stored: custom-field values and free-form keys."`
	Mode      string         `json:"mode" enum:"live,test" doc:"The mode of the key that created it."`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Version   int64          `json:"version" minimum:"1" doc:"1 when created, one more after every change: compare it, or pass it as expected_version (If-Match on REST), to detect changes made since you read the record."`
}

// CurrentVersion is the contact's version.
func (c Contact) CurrentVersion() int64 { return c.Version }

// ContactDetail is a contact with its most recent activities and associations.
type ContactDetail struct {
	Contact
	RecentActivities []Activity    `json:"recent_activities" doc:"Up to 10 activities logged against the contact, most recent occurred_at first (fewer when they would pass 1 MiB of JSON; list_activities pages through all of them)."`
	Associations     []Association `json:"associations" doc:"Up to 10 associations with the contact at either end (from_id or to_id), newest first; list_associations pages through all of them."`
}

// CreateContactInput is the body of create_contact.
type CreateContactInput struct {
	Email     *string        `json:"email,omitempty" format:"email" maxLength:"320" doc:"Email address. Must be unique in the workspace (case-insensitive)."`
	FirstName *string        `json:"first_name,omitempty" maxLength:"200" doc:"Given name."`
	LastName  *string        `json:"last_name,omitempty" maxLength:"200" doc:"Family name."`
	Phone     *string        `json:"phone,omitempty" maxLength:"64" doc:"Phone number, ideally in E.164 form (+14155550100)."`
	CompanyID *CompanyID     `json:"company_id,omitempty" doc:"Id of the person's company (cmp_…)."`
	Metadata  map[string]any `json:"metadata,omitempty" doc:"Key/value data; keys defined as custom fields (get_schema) must hold a value of their type."`
}

// UpdateContactInput changes only the fields present; null clears one.
type UpdateContactInput struct {
	ID        ContactID                        `json:"id" doc:"Id of the contact to change (con_…)."`
	Email     schemas.Nullable[string]         `json:"email,omitzero" format:"email" maxLength:"320" doc:"New email address, or null to remove it."`
	FirstName schemas.Nullable[string]         `json:"first_name,omitzero" maxLength:"200" doc:"New given name, or null to remove it."`
	LastName  schemas.Nullable[string]         `json:"last_name,omitzero" maxLength:"200" doc:"New family name, or null to remove it."`
	Phone     schemas.Nullable[string]         `json:"phone,omitzero" maxLength:"64" doc:"New phone number, or null to remove it."`
	CompanyID schemas.Nullable[CompanyID]      `json:"company_id,omitzero" doc:"New company id, or null to unlink the company."`
	Metadata  schemas.Nullable[map[string]any] `json:"metadata,omitzero" doc:"Keys to merge into metadata; a key set to null is removed; metadata: null removes all keys."`
	Precondition
}

// ContactIDInput names one contact.
type ContactIDInput struct {
	ID     ContactID             `json:"id" doc:"Id of the contact (con_…)."`
	Fields Fields[ContactDetail] `json:"fields,omitempty"`
}

// DeleteContactInput names the contact to delete.
type DeleteContactInput struct {
	ID ContactID `json:"id" doc:"Id of the contact (con_…)."`
	Precondition
}

type contactFilter struct{}

func (contactFilter) spec() filter.Spec { return store.Contacts.Filters }

// ListContactsInput filters and pages the contact list.
type ListContactsInput struct {
	Email     string                `json:"email,omitempty" maxLength:"320" doc:"Only the contact with this email address (case-insensitive)."`
	CompanyID CompanyID             `json:"company_id,omitempty" doc:"Only contacts of this company (cmp_…)."`
	Filter    Filter[contactFilter] `json:"filter,omitempty"`
	Fields    Fields[Contact]       `json:"fields,omitempty"`
	Page
}

type contactHandlers struct {
	records[store.Contact, Contact]
}

// contactRecords is the contact table as the tools write it.
func contactRecords(s *store.Store) records[store.Contact, Contact] {
	h := contactHandlers{records[store.Contact, Contact]{s: s, table: store.Contacts, out: contactOut, values: contactValues}}
	h.onDelete = h.unlinkContact
	return h.records
}

func contactTools(s *store.Store) []Tool {
	h := contactHandlers{contactRecords(s)}
	return []Tool{
		&Capability[CreateContactInput, Contact]{Info: Info{
			Name: "create_contact", Title: "Create contact", Toolset: "contacts",
			Description: "Create a person in the CRM. Give at least one of email, first_name, last_name or phone that is not blank; " +
				"set company_id to link the person to a company. Emails are unique per workspace: if the email is " +
				"taken the call fails with already_exists and existing_id, so look people up with list_contacts first. " +
				"Returns the new contact.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/contacts", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[ContactIDInput, ContactDetail]{Info: Info{
			Name: "get_contact", Title: "Get contact", Toolset: "contacts",
			Description: "Fetch one contact by id (con_…). Returns the contact with all its fields and metadata, " +
				"plus recent_activities: the 10 latest notes, emails, calls, meetings and tasks logged against it, " +
				"and associations: its 10 newest associations (edges to other records, either direction).",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateContactInput, Contact]{Info: Info{
			Name: "update_contact", Title: "Update contact", Toolset: "contacts",
			Description: "Change the contact with id (con_…). Only the fields you pass change; pass null to clear a field. metadata keys " +
				"are merged into the existing metadata (a key set to null is removed). Returns the updated contact." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[ListContactsInput, List[Contact]]{Info: Info{
			Name: "list_contacts", Title: "List contacts", Toolset: "contacts",
			Description: "List contacts, newest first. Filter by email (exact, case-insensitive) or company_id, or with " +
				"filter for any field, e.g. {\"last_name\":{\"ilike\":\"lov%\"},\"metadata->>plan\":\"pro\"}. " +
				"Returns {data, has_more, next_cursor}; pass next_cursor back as cursor for the next page.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/contacts", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[DeleteContactInput, Deleted]{Info: Info{
			Name: "delete_contact", Title: "Delete contact", Toolset: "contacts",
			Description: "Permanently delete a contact by id. Deals that had it as primary contact and activities " +
				"that also concern a deal or company are kept with contact_id cleared; activities about only this " +
				"contact are deleted with it. Returns {id, object, deleted: true}." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
		batchUpsertContacts(s),
	}
}

func contactOut(c store.Contact) Contact {
	return Contact{ID: c.ID, Object: "contact", Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, CompanyID: c.CompanyID, Metadata: c.Metadata, Mode: string(c.Mode),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Version: c.Version}
}

// contactValues are the columns of c's data, as a restore writes them back.
func contactValues(c Contact) store.Values {
	return store.Values{"email": c.Email, "first_name": c.FirstName, "last_name": c.LastName, "phone": c.Phone,
		"company_id": c.CompanyID, "metadata": orEmpty(c.Metadata)}
}

func (h contactHandlers) create(ctx context.Context, in CreateContactInput) (Contact, error) {
	if bad := unidentified("", in.identity()); bad != nil {
		return Contact{}, ValidationFailed([]schemas.FieldError{*bad})
	}
	out, err := h.records.create(ctx, store.Values{"email": in.Email, "first_name": in.FirstName, "last_name": in.LastName,
		"phone": in.Phone, "company_id": idPtr(in.CompanyID), "metadata": orEmpty(in.Metadata)}, nil)
	return out, h.emailTaken(ctx, in.Email, err)
}

func (h contactHandlers) get(ctx context.Context, in ContactIDInput) (ContactDetail, error) {
	if !in.Fields.Has("recent_activities") && !in.Fields.Has("associations") {
		c, err := h.records.get(ctx, string(in.ID))
		return ContactDetail{Contact: c}, err
	}
	var out ContactDetail
	err := read(ctx, h.s, func(tx *store.Tx) error {
		c, acts, edges, err := store.ContactWithRecent(ctx, tx, string(in.ID), 10)
		if err != nil {
			return err
		}
		out = ContactDetail{Contact: contactOut(c), RecentActivities: make([]Activity, len(acts)), Associations: associationsOut(edges)}
		for i, a := range acts {
			out.RecentActivities[i] = activityOut(a)
		}
		out.RecentActivities = out.RecentActivities[:fitPage(ctx, out.RecentActivities)]
		return nil
	})
	return out, h.fail(string(in.ID), err)
}

func (h contactHandlers) update(ctx context.Context, in UpdateContactInput) (Contact, error) {
	ch := store.Changes{Set: map[string]any{}, Metadata: in.Metadata}
	setIf(ch.Set, "email", in.Email)
	setIf(ch.Set, "first_name", in.FirstName)
	setIf(ch.Set, "last_name", in.LastName)
	setIf(ch.Set, "phone", in.Phone)
	setID(ch.Set, "company_id", in.CompanyID)
	out, err := h.records.update(ctx, string(in.ID), in.Precondition, ch, keepIdentified)
	return out, h.emailTaken(ctx, in.Email.Ptr(), err)
}

// identifyingFields are the contact fields of which at least one must hold a value that is
// not blank (schemas.IsBlank): what tells one person from another.
var identifyingFields = []string{"email", "first_name", "last_name", "phone"}

// identity is a contact's identifying values, in identifyingFields order.
func (in CreateContactInput) identity() []*string {
	return []*string{in.Email, in.FirstName, in.LastName, in.Phone}
}

// unidentified says why a contact with the identifying values ids (in identifyingFields
// order) would not be identified, naming path.<field> for the first blank value given, or
// path itself when none was given; nil when one value is not blank.
func unidentified(path string, ids []*string) *schemas.FieldError {
	field := path
	for i, v := range ids {
		switch {
		case v == nil:
		case !schemas.IsBlank(*v):
			return nil
		case field == path:
			field = schemas.JoinField(path, identifyingFields[i])
		}
	}
	if field == path {
		return &schemas.FieldError{Field: path, Message: "needs at least one of email, first_name, last_name or phone"}
	}
	return &schemas.FieldError{Field: field, Message: "is blank, and a contact needs at least one of email, first_name, last_name or phone that is not blank"}
}

// keepIdentified refuses an update that would leave the contact without an identifying
// value that is not blank, naming the first identifying field it changes.
func keepIdentified(_ context.Context, _ *store.Tx, cur store.Contact, ch *store.Changes) error {
	ids := []*string{cur.Email, cur.FirstName, cur.LastName, cur.Phone}
	changed := ""
	for i, f := range identifyingFields {
		if v, set := ch.Set[f]; set {
			ids[i] = v.(*string)
			if changed == "" {
				changed = f
			}
		}
	}
	if changed == "" || unidentified("", ids) == nil {
		return nil
	}
	return ValidationFailed([]schemas.FieldError{{Field: changed, Message: "would leave the contact without a value that is not blank " +
		"in email, first_name, last_name or phone; a contact needs at least one"}})
}

func (h contactHandlers) list(ctx context.Context, in ListContactsInput) (List[Contact], error) {
	return h.records.list(ctx, in.Page, in.Filter, shorthand(map[string]string{"email": in.Email, "company_id": string(in.CompanyID)}))
}

func (h contactHandlers) remove(ctx context.Context, in DeleteContactInput) (Deleted, error) {
	return h.records.delete(ctx, string(in.ID), in.Precondition)
}

// unlinkContact clears references to a contact about to be deleted: activities about only
// this contact go with it; other activities and deals keep existing without it.
func (h contactHandlers) unlinkContact(ctx context.Context, tx *store.Tx, id string) ([]store.NewEvent, error) {
	evs, err := deleteOrphanActivities(ctx, tx, "contact_id", id)
	if err != nil {
		return nil, err
	}
	deals, err := unlink(ctx, tx, store.Deals, dealOut, "primary_contact_id", id)
	if err != nil {
		return nil, err
	}
	acts, err := unlink(ctx, tx, store.Activities, activityOut, "contact_id", id)
	return append(append(evs, deals...), acts...), err
}

// emailTaken turns store.ErrEmailTaken into already_exists naming the contact that has it.
func (h contactHandlers) emailTaken(ctx context.Context, email *string, err error) error {
	if !errors.Is(err, store.ErrEmailTaken) || email == nil {
		return err
	}
	var existing string
	if lerr := inTx(ctx, h.s, func(tx *store.Tx) error {
		var err error
		existing, err = store.ContactIDByEmail(ctx, tx, *email)
		return err
	}); lerr != nil {
		return lerr
	}
	e := NewError(CodeAlreadyExists, "A contact with this email already exists (%s). Update that contact instead, or use a different email.", existing)
	e.Param, e.ExistingID = "email", existing
	return e
}

// setIf records a PATCH field in set when it was sent.
func setIf[T any](set map[string]any, column string, v schemas.Nullable[T]) {
	if v.Set {
		set[column] = v.Ptr()
	}
}

// setPtr sets column to *v when v is given: a field that is optional in an update but
// never null (its schema does not admit null).
func setPtr[T any](set map[string]any, column string, v *T) {
	if v != nil {
		set[column] = v
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
