package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// BatchContactsInput is a contact import.
type BatchContactsInput struct {
	Contacts []CreateContactInput `json:"contacts" minItems:"1" maxItems:"500" doc:"1 to 500 contacts, each as create_contact takes them."`
	DedupOn  []string             `json:"dedup_on,omitempty" enum:"email" maxItems:"1" doc:"[\"email\"] to update the contact that already has a row's email (case-insensitive) instead of reporting the row as a duplicate."`
}

// BatchRowResult is what became of one input row.
type BatchRowResult struct {
	Index   int      `json:"index" doc:"Position of the row in the input, from 0."`
	Status  string   `json:"status" enum:"created,updated,error"`
	Contact *Contact `json:"contact" doc:"The contact as it is now; null when status is error."`
	Error   *Error   `json:"error" doc:"Why the row was not written; null unless status is error."`
}

// BatchResult reports a contact import row by row, in input order.
type BatchResult struct {
	Object  string           `json:"object" enum:"batch_result" doc:"Always \"batch_result\"."`
	Data    []BatchRowResult `json:"data"`
	Created int              `json:"created" doc:"Rows that created a contact."`
	Updated int              `json:"updated" doc:"Rows that updated an existing contact."`
	Errors  int              `json:"errors" doc:"Rows not written (duplicates without dedup_on)."`
}

func batchUpsertContacts(s *store.Store) Tool {
	return &Capability[BatchContactsInput, BatchResult]{Info: Info{
		Name: "batch_upsert_contacts", Title: "Import contacts", Toolset: "contacts",
		Description: "Create or update up to 500 contacts in one call. With dedup_on: [\"email\"], a row whose email " +
			"already exists updates that contact (fields sent overwrite, metadata merges); without it such rows are " +
			"reported as already_exists and skipped. An invalid row fails the whole call with every bad row named, and " +
			"nothing is written. Returns one result per row, in input order: created, updated or error.",
		Annotations: Annotations{Destructive: true},
		REST:        &Route{Method: http.MethodPost, Path: "/v1/contacts/batch", Status: http.StatusOK},
	}, Handle: func(ctx context.Context, in BatchContactsInput) (BatchResult, error) {
		return importContacts(ctx, s, in)
	}}
}

func importContacts(ctx context.Context, s *store.Store, in BatchContactsInput) (BatchResult, error) {
	rows := make([]store.ContactRow, len(in.Contacts))
	var bad []schemas.FieldError
	for i, c := range in.Contacts {
		if fe := unidentified(fmt.Sprintf("contacts.%d", i), c.identity()); fe != nil {
			bad = append(bad, *fe)
		}
		rows[i] = store.ContactRow{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, CompanyID: idPtr(c.CompanyID), Metadata: c.Metadata}
	}
	if bad != nil {
		return BatchResult{}, ValidationFailed(bad)
	}
	res := BatchResult{Object: "batch_result", Data: make([]BatchRowResult, len(rows))}
	err := inTx(ctx, s, func(tx *store.Tx) error {
		if err := checkImportMetadata(ctx, s, tx, rows); err != nil {
			return err
		}
		outcomes, err := store.UpsertContacts(ctx, tx, rows, len(in.DedupOn) > 0)
		if err != nil {
			return err
		}
		var evs []store.NewEvent
		seen := map[string]bool{}
		for i, o := range outcomes {
			res.Data[i] = batchRow(i, o)
			switch res.Data[i].Status {
			case "created":
				res.Created++
			case "updated":
				res.Updated++
			default:
				res.Errors++
				continue
			}
			if seen[o.Contact.ID] {
				continue
			}
			seen[o.Contact.ID] = true
			ev, err := importEvent(o)
			if err != nil {
				return err
			}
			if ev != nil {
				evs = append(evs, *ev)
			}
		}
		return tx.RecordEvents(ctx, evs...)
	})
	var invalid *store.InvalidRowsError
	if errors.As(err, &invalid) {
		details := make([]schemas.FieldError, len(invalid.Rows))
		for i, r := range invalid.Rows {
			details[i] = schemas.FieldError{Field: fmt.Sprintf("contacts.%d.company_id", r), Message: "does not name a company in this workspace and mode"}
		}
		e := ValidationFailed(details)
		e.Code = CodeInvalidReference
		return BatchResult{}, e
	}
	return res, err
}

func batchRow(i int, o store.RowOutcome) BatchRowResult {
	if o.Duplicate {
		e := NewError(CodeAlreadyExists, "A contact with this email already exists. Pass dedup_on: [\"email\"] to update it instead.")
		e.Param, e.ExistingID = fmt.Sprintf("contacts.%d.email", i), o.ExistingID
		return BatchRowResult{Index: i, Status: "error", Error: e}
	}
	c := contactOut(o.Contact)
	status := "updated"
	if o.Created {
		status = "created"
	}
	return BatchRowResult{Index: i, Status: status, Contact: &c}
}

// importEvent is the contact.created or contact.updated event of an import outcome; nil
// when an update changed nothing.
func importEvent(o store.RowOutcome) (*store.NewEvent, error) {
	after := contactOut(o.Contact)
	if o.Before == nil {
		ev := event("contact.created", after, nil)
		return &ev, nil
	}
	prev, err := changed(contactOut(*o.Before), after)
	if err != nil || len(prev) == 0 {
		return nil, err
	}
	ev := event("contact.updated", after, prev)
	return &ev, nil
}
