package tools

import (
	"context"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Company is an organization.
type Company struct {
	ID        string         `json:"id" doc:"Unique id, starting with cmp_."`
	Object    string         `json:"object" enum:"company" doc:"Always \"company\"."`
	Name      string         `json:"name"`
	Domain    *string        `json:"domain" doc:"Web domain, such as example.com."`
	Metadata  map[string]any `json:"metadata" doc:"Key/value data, as stored: custom-field values and free-form keys."`
	Mode      string         `json:"mode" enum:"live,test"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Version   int64          `json:"version" minimum:"1" doc:"1 when created, one more after every change: compare it, or pass it as expected_version (If-Match on REST), to detect changes made since you read the record."`
}

// CurrentVersion is the company's version.
func (c Company) CurrentVersion() int64 { return c.Version }

// CreateCompanyInput is the body of create_company.
type CreateCompanyInput struct {
	Name     string         `json:"name" minLength:"1" maxLength:"200" doc:"Company name."`
	Domain   *string        `json:"domain,omitempty" format:"hostname" maxLength:"253" doc:"Web domain without scheme or path, such as example.com."`
	Metadata map[string]any `json:"metadata,omitempty" doc:"Key/value data; keys defined as custom fields (get_schema) must hold a value of their type."`
}

// UpdateCompanyInput changes only the fields present; null clears one.
type UpdateCompanyInput struct {
	ID       CompanyID                        `json:"id" doc:"Id of the company to change (cmp_…)."`
	Name     *string                          `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"New name (not null: a company always has a name)."`
	Domain   schemas.Nullable[string]         `json:"domain,omitzero" format:"hostname" maxLength:"253" doc:"New domain, or null to remove it."`
	Metadata schemas.Nullable[map[string]any] `json:"metadata,omitzero" doc:"Keys to merge into metadata; a key set to null is removed; metadata: null removes all keys."`
	Precondition
}

// CompanyIDInput names one company.
type CompanyIDInput struct {
	ID     CompanyID       `json:"id" doc:"Id of the company (cmp_…)."`
	Fields Fields[Company] `json:"fields,omitempty"`
}

// DeleteCompanyInput names the company to delete.
type DeleteCompanyInput struct {
	ID CompanyID `json:"id" doc:"Id of the company (cmp_…)."`
	Precondition
}

type companyFilter struct{}

func (companyFilter) spec() filter.Spec { return store.Companies.Filters }

// ListCompaniesInput filters and pages the company list.
type ListCompaniesInput struct {
	Domain string                `json:"domain,omitempty" maxLength:"253" doc:"Only companies with this domain (case-insensitive)."`
	Filter Filter[companyFilter] `json:"filter,omitempty"`
	Fields Fields[Company]       `json:"fields,omitempty"`
	Page
}

type companyHandlers struct {
	records[store.Company, Company]
}

// companyRecords is the company table as the tools write it.
func companyRecords(s *store.Store) records[store.Company, Company] {
	h := companyHandlers{records[store.Company, Company]{s: s, table: store.Companies, out: companyOut, values: companyValues}}
	h.onDelete = h.unlinkCompany
	return h.records
}

// companyValues are the columns of c's data, as a restore writes them back.
func companyValues(c Company) store.Values {
	return store.Values{"name": c.Name, "domain": c.Domain, "metadata": orEmpty(c.Metadata)}
}

func companyTools(s *store.Store) []Tool {
	h := companyHandlers{companyRecords(s)}
	return []Tool{
		&Capability[CreateCompanyInput, Company]{Info: Info{
			Name: "create_company", Title: "Create company", Toolset: "companies",
			Description: "Create an organization. name is required; domain (example.com) helps find it later. " +
				"Link people to it with create_contact or update_contact company_id. Returns the new company.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/companies", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[CompanyIDInput, Company]{Info: Info{
			Name: "get_company", Title: "Get company", Toolset: "companies",
			Description: "Fetch one company by id (cmp_…). Returns the company with its metadata.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/companies/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateCompanyInput, Company]{Info: Info{
			Name: "update_company", Title: "Update company", Toolset: "companies",
			Description: "Change the company with id (cmp_…). Only the fields you pass change; null clears domain; metadata keys merge " +
				"(a key set to null is removed). Returns the updated company." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/companies/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[ListCompaniesInput, List[Company]]{Info: Info{
			Name: "list_companies", Title: "List companies", Toolset: "companies",
			Description: "List companies, newest first. Filter by domain, or with filter for any field, e.g. " +
				"{\"name\":{\"ilike\":\"%acme%\"}}. Returns {data, has_more, next_cursor}; pass next_cursor back as cursor.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/companies", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[DeleteCompanyInput, Deleted]{Info: Info{
			Name: "delete_company", Title: "Delete company", Toolset: "companies",
			Description: "Permanently delete a company. Its contacts and deals are kept with company_id cleared; " +
				"activities about only this company are deleted with it. Returns {id, object, deleted: true}." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/companies/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
	}
}

func companyOut(c store.Company) Company {
	return Company{ID: c.ID, Object: "company", Name: c.Name, Domain: c.Domain, Metadata: c.Metadata,
		Mode: string(c.Mode), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Version: c.Version}
}

func (h companyHandlers) create(ctx context.Context, in CreateCompanyInput) (Company, error) {
	return h.records.create(ctx, store.Values{"name": in.Name, "domain": in.Domain, "metadata": orEmpty(in.Metadata)}, nil)
}

func (h companyHandlers) get(ctx context.Context, in CompanyIDInput) (Company, error) {
	return h.records.get(ctx, string(in.ID))
}

func (h companyHandlers) update(ctx context.Context, in UpdateCompanyInput) (Company, error) {
	ch := store.Changes{Set: map[string]any{}, Metadata: in.Metadata}
	setPtr(ch.Set, "name", in.Name)
	setIf(ch.Set, "domain", in.Domain)
	return h.records.update(ctx, string(in.ID), in.Precondition, ch, nil)
}

func (h companyHandlers) list(ctx context.Context, in ListCompaniesInput) (List[Company], error) {
	return h.records.list(ctx, in.Page, in.Filter, shorthand(map[string]string{"domain": in.Domain}))
}

func (h companyHandlers) remove(ctx context.Context, in DeleteCompanyInput) (Deleted, error) {
	return h.records.delete(ctx, string(in.ID), in.Precondition)
}

// unlinkCompany clears references to a company about to be deleted.
func (h companyHandlers) unlinkCompany(ctx context.Context, tx *store.Tx, id string) ([]store.NewEvent, error) {
	evs, err := deleteOrphanActivities(ctx, tx, "company_id", id)
	if err != nil {
		return nil, err
	}
	contacts, err := unlink(ctx, tx, store.Contacts, contactOut, "company_id", id)
	if err != nil {
		return nil, err
	}
	deals, err := unlink(ctx, tx, store.Deals, dealOut, "company_id", id)
	if err != nil {
		return nil, err
	}
	acts, err := unlink(ctx, tx, store.Activities, activityOut, "company_id", id)
	return append(append(append(evs, contacts...), deals...), acts...), err
}
