package tools

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Association is a directed, optionally labelled edge between two records.
type Association struct {
	ID        string     `json:"id" doc:"Unique id, starting with asc_."`
	Object    string     `json:"object" enum:"association" doc:"Always \"association\"."`
	FromType  RecordKind `json:"from_type" doc:"Kind of the record the edge starts at."`
	FromID    string     `json:"from_id" doc:"Id of the record the edge starts at."`
	ToType    RecordKind `json:"to_type" doc:"Kind of the record the edge ends at."`
	ToID      string     `json:"to_id" doc:"Id of the record the edge ends at."`
	Label     *string    `json:"label" doc:"What the link means, such as \"champion\"; null when unlabelled."`
	Mode      string     `json:"mode" enum:"live,test"`
	CreatedAt time.Time  `json:"created_at"`
}

// CreateAssociationInput is the body of create_association.
type CreateAssociationInput struct {
	FromType RecordKind `json:"from_type" doc:"Kind of the record the edge starts at."`
	FromID   RecordID   `json:"from_id" doc:"Id of that record (con_…, cmp_…, deal_… or act_…, matching from_type)."`
	ToType   RecordKind `json:"to_type" doc:"Kind of the record the edge ends at."`
	ToID     RecordID   `json:"to_id" doc:"Id of that record, matching to_type; not the same record as from_id."`
	Label    *string    `json:"label,omitempty" minLength:"1" maxLength:"100" doc:"What the link means, such as \"champion\" or \"billing contact\". Part of the edge's identity: the same two records may be linked once per label."`
}

type associationFilter struct{}

func (associationFilter) spec() filter.Spec { return store.Associations.Filters }

// ListAssociationsInput filters and pages the association list.
type ListAssociationsInput struct {
	FromType RecordKind                `json:"from_type,omitempty" doc:"Only edges starting at a record of this kind."`
	FromID   RecordID                  `json:"from_id,omitempty" doc:"Only edges starting at this record."`
	ToType   RecordKind                `json:"to_type,omitempty" doc:"Only edges ending at a record of this kind."`
	ToID     RecordID                  `json:"to_id,omitempty" doc:"Only edges ending at this record."`
	Label    string                    `json:"label,omitempty" maxLength:"100" doc:"Only edges with this label."`
	Filter   Filter[associationFilter] `json:"filter,omitempty"`
	Fields   Fields[Association]       `json:"fields,omitempty"`
	Page
}

// AssociationIDInput names one association.
type AssociationIDInput struct {
	ID AssociationID `json:"id" doc:"Id of the association (asc_…)."`
}

type associationHandlers struct {
	records[store.Association, Association]
}

func associationTools(s *store.Store) []Tool {
	h := associationHandlers{records[store.Association, Association]{s: s, table: store.Associations, out: associationOut}}
	return []Tool{
		&Capability[CreateAssociationInput, Association]{Info: Info{
			Name: "create_association", Title: "Create association", Toolset: "associations",
			Description: "Link any two records (contacts, companies, deals, activities) with a directed edge from " +
				"from_type/from_id to to_type/to_id and an optional label, e.g. a contact as \"champion\" of a deal. " +
				"Needs the Team plan: on Free it fails with plan_required (company_id and primary_contact_id links work " +
				"on every plan). The same from, to and label twice fails with already_exists and existing_id. " +
				"Returns the association.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/associations", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[ListAssociationsInput, List[Association]]{Info: Info{
			Name: "list_associations", Title: "List associations", Toolset: "associations",
			Description: "List associations, newest first. Filter by from_type and from_id (edges starting at a record), " +
				"to_type and to_id (edges ending at one) or label, or with filter, e.g. {\"to_type\":\"deal\"}. Works on " +
				"every plan. Returns {data, has_more, next_cursor}; pass next_cursor back as cursor for the next page.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/associations", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[AssociationIDInput, Deleted]{Info: Info{
			Name: "delete_association", Title: "Delete association", Toolset: "associations",
			Description: "Permanently delete an association by id (asc_…); the records it linked are not changed. Works " +
				"on every plan. Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/associations/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
	}
}

func associationOut(a store.Association) Association {
	return Association{ID: a.ID, Object: "association", FromType: RecordKind(a.FromType), FromID: a.FromID, ToType: RecordKind(a.ToType),
		ToID: a.ToID, Label: a.Label, Mode: string(a.Mode), CreatedAt: a.CreatedAt.UTC()}
}

func associationsOut(as []store.Association) []Association {
	out := make([]Association, len(as))
	for i, a := range as {
		out[i] = associationOut(a)
	}
	return out
}

func (h associationHandlers) create(ctx context.Context, in CreateAssociationInput) (Association, error) {
	bad := append(mismatchedType("from", string(in.FromType), string(in.FromID)), mismatchedType("to", string(in.ToType), string(in.ToID))...)
	if in.FromID == in.ToID {
		bad = append(bad, schemas.FieldError{Field: "to_id", Message: "must name another record than from_id"})
	}
	if bad != nil {
		return Association{}, ValidationFailed(bad)
	}
	var out Association
	err := inTx(ctx, h.s, func(tx *store.Tx) error {
		// The plan first: it reveals nothing, whereas the ends must be checked as one step
		// so that another tenant's id answers exactly like a missing one.
		plan, err := tx.WorkspacePlan(ctx)
		if err != nil {
			return err
		}
		if plan != store.PlanTeam {
			return planRequired(plan)
		}
		row, err := store.CreateAssociation(ctx, tx, store.NewAssociation{FromType: string(in.FromType), FromID: string(in.FromID),
			ToType: string(in.ToType), ToID: string(in.ToID), Label: in.Label})
		if err != nil {
			return err
		}
		out = associationOut(row)
		return tx.RecordEvents(ctx, event("association.created", out, nil))
	})
	var ref *store.InvalidReferenceError
	var dup *store.AssociationExistsError
	switch {
	case errors.As(err, &ref):
		typ := in.FromType
		if ref.Field == "to_id" {
			typ = in.ToType
		}
		e := NewError(CodeInvalidReference, "%s does not name a %s in this workspace and mode. Check the id, or create the record first.", ref.Field, typ)
		e.Param = ref.Field
		return Association{}, e
	case errors.As(err, &dup):
		e := NewError(CodeAlreadyExists, "These records are already linked with this label (%s). Use that association, or give this one another label.", dup.ExistingID)
		e.ExistingID = dup.ExistingID
		return Association{}, e
	}
	return out, h.fail("", err)
}

func (h associationHandlers) list(ctx context.Context, in ListAssociationsInput) (List[Association], error) {
	if bad := append(mismatchedType("from", string(in.FromType), string(in.FromID)), mismatchedType("to", string(in.ToType), string(in.ToID))...); bad != nil {
		return List[Association]{}, ValidationFailed(bad)
	}
	short := shorthand(map[string]string{"from_type": string(in.FromType), "from_id": string(in.FromID), "to_type": string(in.ToType), "to_id": string(in.ToID), "label": in.Label})
	return h.records.list(ctx, in.Page, in.Filter, short)
}

func (h associationHandlers) remove(ctx context.Context, in AssociationIDInput) (Deleted, error) {
	return h.records.delete(ctx, string(in.ID), Precondition{})
}

// mismatchedType reports an id (side_id) whose prefix is not that of its kind (side_type),
// when both are given.
func mismatchedType(side, typ, id string) []schemas.FieldError {
	prefix := store.AssociationTypes[typ]
	if id == "" || prefix == "" || strings.HasPrefix(id, prefix) {
		return nil
	}
	kind := "record"
	for t, p := range store.AssociationTypes {
		if strings.HasPrefix(id, p) {
			kind = t
		}
	}
	return []schemas.FieldError{{Field: side + "_id",
		Message: "is a " + kind + " id, but " + side + "_type is " + typ + " (whose ids start with " + prefix + "); make them agree"}}
}

// planRequired refuses a Team feature to a workspace on another plan.
func planRequired(plan string) *Error {
	return NewError(CodePlanRequired, "Associations need the Team plan, and this workspace is on the %s plan. Move it to "+
		"Team (relm workspaces set-plan --workspace NAME --plan team), or link records with company_id, "+
		"primary_contact_id and activity links, which work on every plan. Listing and deleting associations "+
		"work on every plan.", plan)
}

// dropAssociations deletes the edges of records being deleted (which the transaction has
// locked or deleted already), returning their association.deleted events.
func dropAssociations(ctx context.Context, tx *store.Tx, ids ...string) ([]store.NewEvent, error) {
	gone, err := store.DeleteAssociationsOf(ctx, tx, ids)
	evs := make([]store.NewEvent, len(gone))
	for i, a := range gone {
		evs[i] = event("association.deleted", associationOut(a), nil)
	}
	return evs, err
}
