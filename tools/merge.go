package tools

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// MergeContactsInput names the contact that stays and those merged into it.
type MergeContactsInput struct {
	Into   ContactID   `json:"into" doc:"The contact that stays (con_…)."`
	From   []ContactID `json:"from" minItems:"1" maxItems:"20" uniqueItems:"true" doc:"The contacts merged into it and then deleted (con_…), 1 to 20."`
	Prefer string      `json:"prefer,omitempty" enum:"into,from" doc:"into (default): fields and metadata keys that into has are kept, and only its empty ones are filled from the merged records; from: the merged records' values win."`
}

// MergeCompaniesInput names the company that stays and those merged into it.
type MergeCompaniesInput struct {
	Into   CompanyID   `json:"into" doc:"The company that stays (cmp_…)."`
	From   []CompanyID `json:"from" minItems:"1" maxItems:"20" uniqueItems:"true" doc:"The companies merged into it and then deleted (cmp_…), 1 to 20."`
	Prefer string      `json:"prefer,omitempty" enum:"into,from" doc:"into (default): fields and metadata keys that into has are kept, and only its empty ones are filled from the merged records; from: the merged records' values win."`
}

// Merged is the outcome of a merge.
type Merged[Out any] struct {
	Object    string   `json:"object" enum:"merge" doc:"Always \"merge\"."`
	Into      Out      `json:"into" doc:"The record that stays, as it is after the merge."`
	MergedIDs []string `json:"merged_ids" doc:"The records merged into it, now deleted."`
	EventID   string   `json:"event_id" doc:"The contact.merged or company.merged event: undo_change with it reverts the whole merge."`
}

// movedRef is a reference a merge moved from a merged record to the one that stays.
type movedRef struct {
	Object string `json:"object"`
	ID     string `json:"id"`
	Field  string `json:"field"`
	From   string `json:"from"`
}

// movedEdge is an association a merge moved, with the ends it had before.
type movedEdge struct {
	ID     string `json:"id"`
	FromID string `json:"from_id"`
	ToID   string `json:"to_id"`
}

// mergeData is the data of a *.merged event beyond object and previous_attributes: what
// undo needs to take the merge back.
type mergeData struct {
	Merged              []json.RawMessage `json:"merged"`
	MovedReferences     []movedRef        `json:"moved_references"`
	MovedAssociations   []movedEdge       `json:"moved_associations"`
	DroppedAssociations []json.RawMessage `json:"dropped_associations"`
}

// merger merges records of one kind.
type merger[R storeRow, Out any] struct {
	records[R, Out]
	// refs move the references to a merged record (from) to the one that stays (into).
	refs []func(ctx context.Context, tx *store.Tx, from, into string) ([]movedRef, error)
}

// repointer moves the references of column of table.
func repointer[R storeRow](table *store.Table[R], column string, id func(R) string) func(context.Context, *store.Tx, string, string) ([]movedRef, error) {
	return func(ctx context.Context, tx *store.Tx, from, into string) ([]movedRef, error) {
		rows, err := store.Repoint(ctx, tx, table, column, from, into)
		moved := make([]movedRef, len(rows))
		for i, row := range rows {
			moved[i] = movedRef{Object: table.Kind, ID: id(row), Field: column, From: from}
		}
		return moved, err
	}
}

func mergeTools(s *store.Store) []Tool {
	contacts := merger[store.Contact, Contact]{records: contactRecords(s), refs: contactRefs}
	companies := merger[store.Company, Company]{records: companyRecords(s), refs: companyRefs}
	return []Tool{
		&Capability[MergeContactsInput, Merged[Contact]]{Info: Info{
			Name: "merge_contacts", Title: "Merge contacts", Toolset: "contacts",
			Description: "Merge duplicate contacts (from: their ids) into one (into: the id that stays); both are required. Their " +
				"activities, deals, associations and references move to into; into's empty fields and missing metadata keys are " +
				"filled from them (never overwritten unless prefer: \"from\"); then they are deleted. Records one contact.merged " +
				"event, which undo_change reverts (restoring them and moving everything back). Returns {into, merged_ids, event_id}. " +
				"Find candidates with find_duplicates.",
			Annotations: Annotations{Destructive: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/contacts/{into}/merge", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in MergeContactsInput) (Merged[Contact], error) {
			return contacts.merge(ctx, string(in.Into), idStrings(in.From), in.Prefer)
		}},
		&Capability[MergeCompaniesInput, Merged[Company]]{Info: Info{
			Name: "merge_companies", Title: "Merge companies", Toolset: "companies",
			Description: "Merge duplicate companies (from: their ids) into one (into: the id that stays); both are required. " +
				"Their contacts, deals, activities and associations move to into; into's empty fields and missing metadata keys " +
				"are filled from them (never overwritten unless prefer: \"from\"); then they are deleted. Records one " +
				"company.merged event, which undo_change reverts. Returns {into, merged_ids, event_id}. Find candidates with find_duplicates.",
			Annotations: Annotations{Destructive: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/companies/{into}/merge", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in MergeCompaniesInput) (Merged[Company], error) {
			return companies.merge(ctx, string(in.Into), idStrings(in.From), in.Prefer)
		}},
	}
}

var (
	contactRefs = []func(context.Context, *store.Tx, string, string) ([]movedRef, error){
		repointer(store.Deals, "primary_contact_id", func(d store.Deal) string { return d.ID }),
		repointer(store.Activities, "contact_id", func(a store.Activity) string { return a.ID }),
	}
	companyRefs = []func(context.Context, *store.Tx, string, string) ([]movedRef, error){
		repointer(store.Contacts, "company_id", func(c store.Contact) string { return c.ID }),
		repointer(store.Deals, "company_id", func(d store.Deal) string { return d.ID }),
		repointer(store.Activities, "company_id", func(a store.Activity) string { return a.ID }),
	}
)

func idStrings[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// empty reports whether a column value holds nothing: a nil pointer or an empty string.
func empty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map:
		return rv.IsNil()
	case reflect.String:
		return rv.Len() == 0
	}
	return false
}

func (m merger[R, Out]) merge(ctx context.Context, into string, from []string, prefer string) (Merged[Out], error) {
	if slices.Contains(from, into) {
		return Merged[Out]{}, ValidationFailed([]schemas.FieldError{{Field: "from", Message: "names into itself: a record cannot be merged into itself"}})
	}
	out := Merged[Out]{Object: "merge", MergedIDs: from, EventID: store.NewID(store.Events.Prefix)}
	err := inTx(ctx, m.s, func(tx *store.Tx) error {
		// Lock every record in id order, so two merges of overlapping records wait rather than deadlock.
		rows := map[string]R{}
		for _, id := range slices.Sorted(slices.Values(append([]string{into}, from...))) {
			row, err := store.Lock(ctx, tx, m.table, id)
			if errors.Is(err, store.ErrNotFound) {
				e := NotFound(m.kind(), id)
				e.Param = "from"
				if id == into {
					e.Param = "into"
				}
				return e
			} else if err != nil {
				return err
			}
			rows[id] = row
		}
		cur := m.values(m.out(rows[into]))
		set := map[string]any{}
		md := maps.Clone(cur["metadata"].(map[string]any))
		var data mergeData
		for _, f := range from {
			fo := m.out(rows[f])
			data.Merged = append(data.Merged, Encode(fo))
			for c, v := range m.values(fo) {
				if c == "metadata" {
					for k, x := range v.(map[string]any) {
						if _, has := md[k]; !has || prefer == "from" {
							md[k] = x
						}
					}
					continue
				}
				have, seen := set[c]
				if !seen {
					have = cur[c]
				}
				if !empty(v) && (empty(have) || prefer == "from") {
					set[c] = v
				}
			}
			for _, move := range m.refs {
				moved, err := move(ctx, tx, f, into)
				if err != nil {
					return err
				}
				data.MovedReferences = append(data.MovedReferences, moved...)
			}
			dropped, moved, err := store.MoveAssociations(ctx, tx, f, into)
			if err != nil {
				return err
			}
			for _, a := range dropped {
				data.DroppedAssociations = append(data.DroppedAssociations, Encode(associationOut(a)))
			}
			for _, a := range moved {
				e := movedEdge{ID: a.ID, FromID: a.FromID, ToID: a.ToID}
				if e.FromID == into {
					e.FromID = f
				} else {
					e.ToID = f
				}
				data.MovedAssociations = append(data.MovedAssociations, e)
			}
			if _, err := store.Delete(ctx, tx, m.table, f); err != nil {
				return err
			}
		}
		for c, v := range set {
			if reflect.DeepEqual(v, cur[c]) {
				delete(set, c)
			}
		}
		if !reflect.DeepEqual(md, cur["metadata"]) {
			set["metadata"] = md
		}
		before, after, err := store.Update(ctx, tx, m.table, into, func(R) (store.Changes, error) {
			return store.Changes{Set: set}, nil
		})
		if err != nil {
			return err
		}
		out.Into = m.out(after)
		prev, err := changed(m.out(before), out.Into)
		if err != nil {
			return err
		}
		ev := map[string]any{"object": out.Into, "previous_attributes": prev, "merged": data.Merged,
			"moved_references": orNone(data.MovedReferences), "moved_associations": orNone(data.MovedAssociations),
			"dropped_associations": orNone(data.DroppedAssociations)}
		e := eventWith(m.kind()+".merged", ev)
		e.ID = out.EventID
		return tx.RecordEvents(ctx, e)
	})
	if err != nil {
		return Merged[Out]{}, m.fail(into, err)
	}
	return out, nil
}

func orNone[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// revertMerge takes back a merge: into gets its old fields back, the merged records are
// restored with their ids, and the references and associations the merge moved go back
// where they were (those changed since stay); dropped associations are restored.
func (m merger[R, Out]) revertMerge(ctx context.Context, tx *store.Tx, u undo, rv *reverting, evID string, raw json.RawMessage, force bool) error {
	var d eventData
	var md mergeData
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return err
	}
	evs, err := m.revertUpdate(ctx, tx, d, force)
	if err != nil {
		return err
	}
	for _, f := range md.Merged {
		more, err := m.restore(ctx, tx, eventData{Object: f})
		if err != nil {
			return err
		}
		evs = append(evs, more...)
	}
	ref, err := decodeOut[recordRef](d.Object)
	if err != nil {
		return err
	}
	for _, mv := range md.MovedReferences {
		if r := u.kinds[mv.Object]; r != nil {
			more, err := r.relink(ctx, tx, mv.ID, mv.Field, &ref.ID, mv.From)
			if err != nil {
				return err
			}
			evs = append(evs, more...)
		}
	}
	for _, e := range md.MovedAssociations {
		if _, err := store.SetAssociationEnds(ctx, tx, e.ID, e.FromID, e.ToID); err != nil {
			return err
		}
	}
	for _, a := range md.DroppedAssociations {
		more, err := associationReverter{}.restore(ctx, tx, eventData{Object: a})
		var te *Error
		if errors.As(err, &te) && te.Code == CodeConflict {
			continue
		} else if err != nil {
			return err
		}
		evs = append(evs, more...)
	}
	return u.record(ctx, tx, rv, evID, evs)
}
