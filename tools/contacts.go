package tools

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
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
	Metadata  map[string]any `json:"metadata" doc:"Free-form key/value data."`
	Mode      string         `json:"mode" enum:"live,test" doc:"The mode of the key that created it."`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// CreateContactInput is the body of create_contact.
type CreateContactInput struct {
	Email     *string        `json:"email,omitempty" format:"email" maxLength:"320" doc:"Email address. Must be unique in the workspace (case-insensitive)."`
	FirstName *string        `json:"first_name,omitempty" maxLength:"200" doc:"Given name."`
	LastName  *string        `json:"last_name,omitempty" maxLength:"200" doc:"Family name."`
	Phone     *string        `json:"phone,omitempty" maxLength:"64" doc:"Phone number, ideally in E.164 form (+14155550100)."`
	CompanyID *string        `json:"company_id,omitempty" pattern:"^cmp_[a-z2-7]{26}$" doc:"Id of the person's company (cmp_…)."`
	Metadata  map[string]any `json:"metadata,omitempty" doc:"Free-form key/value data to store with the contact."`
}

// UpdateContactInput changes only the fields present; null clears one.
type UpdateContactInput struct {
	ID        string                           `json:"id" pattern:"^con_[a-z2-7]{26}$" doc:"Id of the contact to change (con_…)."`
	Email     schemas.Nullable[string]         `json:"email,omitzero" format:"email" maxLength:"320" doc:"New email address, or null to remove it."`
	FirstName schemas.Nullable[string]         `json:"first_name,omitzero" maxLength:"200" doc:"New given name, or null to remove it."`
	LastName  schemas.Nullable[string]         `json:"last_name,omitzero" maxLength:"200" doc:"New family name, or null to remove it."`
	Phone     schemas.Nullable[string]         `json:"phone,omitzero" maxLength:"64" doc:"New phone number, or null to remove it."`
	CompanyID schemas.Nullable[string]         `json:"company_id,omitzero" pattern:"^cmp_[a-z2-7]{26}$" doc:"New company id, or null to unlink the company."`
	Metadata  schemas.Nullable[map[string]any] `json:"metadata,omitzero" doc:"Keys to merge into metadata; a key set to null is removed; metadata: null removes all keys."`
}

// ContactIDInput names one contact.
type ContactIDInput struct {
	ID string `json:"id" pattern:"^con_[a-z2-7]{26}$" doc:"Id of the contact (con_…)."`
}

// ListContactsInput filters and pages the contact list.
type ListContactsInput struct {
	Email     string `json:"email,omitempty" maxLength:"320" doc:"Only the contact with this email address (case-insensitive)."`
	CompanyID string `json:"company_id,omitempty" pattern:"^cmp_[a-z2-7]{26}$" doc:"Only contacts of this company (cmp_…)."`
	Page
}

type contactHandlers struct{ s *store.Store }

func contactTools(s *store.Store) []Tool {
	h := contactHandlers{s}
	return []Tool{
		&Capability[CreateContactInput, Contact]{Info: Info{
			Name: "create_contact", Title: "Create contact", Toolset: "contacts",
			Description: "Create a person in the CRM. Give at least one of email, first_name, last_name or phone; " +
				"set company_id to link the person to a company. Emails are unique per workspace: if the email is " +
				"taken the call fails with already_exists and existing_id, so look people up with list_contacts first. " +
				"Returns the new contact.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/contacts", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[ContactIDInput, Contact]{Info: Info{
			Name: "get_contact", Title: "Get contact", Toolset: "contacts",
			Description: "Fetch one contact by id (con_…). Returns the contact with all its fields and metadata.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateContactInput, Contact]{Info: Info{
			Name: "update_contact", Title: "Update contact", Toolset: "contacts",
			Description: "Change a contact. Only the fields you pass change; pass null to clear a field. metadata keys " +
				"are merged into the existing metadata (a key set to null is removed). Returns the updated contact.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[ListContactsInput, List[Contact]]{Info: Info{
			Name: "list_contacts", Title: "List contacts", Toolset: "contacts",
			Description: "List contacts, newest first. Filter by email (exact, case-insensitive) or company_id. " +
				"Returns {data, has_more, next_cursor}; pass next_cursor back as cursor for the next page.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/contacts", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[ContactIDInput, Deleted]{Info: Info{
			Name: "delete_contact", Title: "Delete contact", Toolset: "contacts",
			Description: "Permanently delete a contact by id. This cannot be undone. Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/contacts/{id}", Status: http.StatusOK},
		}, Handle: h.delete},
	}
}

func contactOut(c store.Contact) Contact {
	return Contact{ID: c.ID, Object: "contact", Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, CompanyID: c.CompanyID, Metadata: c.Metadata, Mode: string(c.Mode),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

func (h contactHandlers) create(ctx context.Context, in CreateContactInput) (Contact, error) {
	t, err := caller(ctx)
	if err != nil {
		return Contact{}, err
	}
	if in.Email == nil && in.FirstName == nil && in.LastName == nil && in.Phone == nil {
		return Contact{}, ValidationFailed([]schemas.FieldError{{Message: "needs at least one of email, first_name, last_name or phone"}})
	}
	c, err := h.s.CreateContact(ctx, t, store.ContactFields{Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Phone: in.Phone, CompanyID: in.CompanyID, Metadata: in.Metadata})
	if err != nil {
		return Contact{}, contactWriteError("", err)
	}
	return contactOut(c), nil
}

func (h contactHandlers) get(ctx context.Context, in ContactIDInput) (Contact, error) {
	t, err := caller(ctx)
	if err != nil {
		return Contact{}, err
	}
	c, err := h.s.GetContact(ctx, t, in.ID)
	if err != nil {
		return Contact{}, storeError("contact", in.ID, err)
	}
	return contactOut(c), nil
}

func (h contactHandlers) update(ctx context.Context, in UpdateContactInput) (Contact, error) {
	t, err := caller(ctx)
	if err != nil {
		return Contact{}, err
	}
	c, err := h.s.UpdateContact(ctx, t, in.ID, store.ContactPatch{Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Phone: in.Phone, CompanyID: in.CompanyID, Metadata: in.Metadata})
	if err != nil {
		return Contact{}, contactWriteError(in.ID, err)
	}
	return contactOut(c), nil
}

func (h contactHandlers) list(ctx context.Context, in ListContactsInput) (List[Contact], error) {
	t, err := caller(ctx)
	if err != nil {
		return List[Contact]{}, err
	}
	after, err := in.after("contact")
	if err != nil {
		return List[Contact]{}, err
	}
	f := store.ContactFilter{}
	if in.Email != "" {
		f.Email = &in.Email
	}
	if in.CompanyID != "" {
		f.CompanyID = &in.CompanyID
	}
	p, err := h.s.ListContacts(ctx, t, f, in.Limit, after)
	if err != nil {
		return List[Contact]{}, err
	}
	return listOf(p, contactOut), nil
}

func (h contactHandlers) delete(ctx context.Context, in ContactIDInput) (Deleted, error) {
	t, err := caller(ctx)
	if err != nil {
		return Deleted{}, err
	}
	if err := h.s.DeleteContact(ctx, t, in.ID); err != nil {
		return Deleted{}, storeError("contact", in.ID, err)
	}
	return Deleted{ID: in.ID, Object: "contact", Deleted: true}, nil
}

func contactWriteError(id string, err error) error {
	var taken *store.EmailTakenError
	if errors.As(err, &taken) {
		e := NewError(CodeAlreadyExists, "A contact with this email already exists (%s). Update that contact instead, or use a different email.", taken.ExistingID)
		e.Param = "email"
		e.ExistingID = taken.ExistingID
		return e
	}
	return storeError("contact", id, err)
}
