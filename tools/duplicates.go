package tools

import (
	"context"
	"math"
	"net/http"

	"github.com/relmcrm/relm/store"
)

// FindDuplicatesInput names the kind of record to look for duplicates of.
type FindDuplicatesInput struct {
	ObjectType string `json:"object_type" enum:"contact,company" doc:"contact or company: the kind of record to look for duplicates among."`
	Page
}

// DuplicatePair is two records that may be the same person or organization.
type DuplicatePair struct {
	Object         string   `json:"object" enum:"duplicate_pair" doc:"Always \"duplicate_pair\"."`
	ObjectType     string   `json:"object_type" enum:"contact,company"`
	IDs            []string `json:"ids" doc:"The two records, the newer first. Keep one with merge_contacts / merge_companies {into, from: [the other]}."`
	Score          float64  `json:"score" minimum:"0" maximum:"1" doc:"How likely the two are the same, from 0 to 1: a shared email or domain counts most, then shared phone digits, then similar names."`
	Reasons        []string `json:"reasons" doc:"What they share: same_email (case-insensitive), same_domain, same_phone (the same digits, 7 or more), similar_name (trigram similarity at least 0.5)."`
	NameSimilarity float64  `json:"name_similarity" minimum:"0" maximum:"1" doc:"Trigram similarity of their names (pg_trgm), 0 to 1."`
}

// duplicateOut is a pair of records of kind as find_duplicates answers it, scored.
func duplicateOut(kind string) func(p store.DuplicatePair) DuplicatePair {
	return func(p store.DuplicatePair) DuplicatePair {
		out := DuplicatePair{Object: "duplicate_pair", ObjectType: kind, IDs: []string{p.AID, p.BID}, Reasons: []string{},
			NameSimilarity: math.Round(p.NameSimilarity*1000) / 1000}
		miss := 1.0 // the chance that every signal is wrong
		for _, s := range []struct {
			on     bool
			reason string
			weight float64
		}{
			{p.SameEmail, "same_email", 0.95}, {p.SameDomain, "same_domain", 0.9}, {p.SamePhone, "same_phone", 0.8},
			{p.NameSimilarity >= store.SimilarNames, "similar_name", 0.7 * p.NameSimilarity},
		} {
			if s.on {
				out.Reasons = append(out.Reasons, s.reason)
				miss *= 1 - s.weight
			}
		}
		out.Score = math.Round((1-miss)*1000) / 1000
		return out
	}
}

func duplicateTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[FindDuplicatesInput, List[DuplicatePair]]{Info: Info{
			Name: "find_duplicates", Title: "Find duplicates", Toolset: "search",
			Description: "Find pairs of contacts or companies (object_type, required) that may be the same: same email " +
				"(case-insensitive) or domain, same phone digits, or similar names (trigram similarity). Each pair has ids " +
				"(newer first), a score from 0 to 1 and its reasons. Newest pairs first; returns {data, has_more, next_cursor}. " +
				"Check both records, then keep one with merge_contacts or merge_companies.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/duplicates", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in FindDuplicatesInput) (List[DuplicatePair], error) {
			var out List[DuplicatePair]
			after, err := in.Page.after(ctx)
			if err != nil {
				return out, err
			}
			err = read(ctx, s, func(tx *store.Tx) error {
				p, err := store.FindDuplicates(ctx, tx, in.ObjectType, in.Limit, after)
				if err != nil {
					return err
				}
				out, err = listOf(ctx, p, duplicateOut(in.ObjectType))
				return err
			})
			return out, err
		}},
	}
}
