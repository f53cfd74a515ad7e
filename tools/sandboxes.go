package tools

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// Sandbox is a test-mode workspace made by this workspace, for eval suites and CI runs.
type Sandbox struct {
	ID        string    `json:"id" doc:"Unique id, starting with sbx_. It is also the id of the sandbox's workspace."`
	Object    string    `json:"object" enum:"sandbox" doc:"Always \"sandbox\"."`
	Name      *string   `json:"name" doc:"The name given when it was created; null without one."`
	Plan      string    `json:"plan" enum:"free,team" doc:"The sandbox's plan, at most its parent's."`
	Mode      string    `json:"mode" enum:"test" doc:"Always test: a sandbox holds test data only, and its keys are sk_test_ keys."`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at" doc:"When the server deletes the sandbox with everything in it."`
}

// NewSandboxWithKey is a freshly created sandbox with its first API key.
type NewSandboxWithKey struct {
	Sandbox
	APIKey NewAPIKey `json:"api_key" doc:"The sandbox's first key (sk_test_…), with its secret, shown only in this response: use it to reach the sandbox."`
}

// CreateSandboxInput describes a sandbox to make.
type CreateSandboxInput struct {
	Name       string `json:"name,omitempty" minLength:"1" maxLength:"100" doc:"A name to tell it apart, such as the CI run it is for."`
	Plan       string `json:"plan,omitempty" enum:"free,team" doc:"Its plan: at most this workspace's plan, which is the default."`
	TTLSeconds int    `json:"ttl_seconds,omitempty" minimum:"60" maximum:"604800" doc:"Seconds until the server deletes it: 60 to 604800 (7 days); default 86400 (24 hours)."`
}

// SandboxIDInput names one sandbox.
type SandboxIDInput struct {
	ID SandboxID `json:"id" doc:"Id of the sandbox (sbx_…)."`
}

// ListSandboxesInput pages the sandboxes.
type ListSandboxesInput struct {
	WholeListPage
}

func sandboxTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[CreateSandboxInput, NewSandboxWithKey]{Info: Info{
			Name: "create_sandbox", Title: "Create sandbox", Toolset: "sandboxes",
			Description: "Create a sandbox: a fresh, empty test-mode workspace with this workspace's schema (pipelines, stages " +
				"and custom fields of the calling key's mode) but no records, for eval suites and CI runs that must not touch " +
				"this workspace. It expires after ttl_seconds (default 24 hours, at most 7 days) and is then deleted with " +
				"everything in it. Its plan is at most this workspace's. At most 50 at once per workspace; sandboxes cannot " +
				"create sandboxes. Returns the sandbox with api_key, its first sk_test_ key, whose secret is shown only this once.",
			REST:         &Route{Method: http.MethodPost, Path: "/v1/sandboxes", Status: http.StatusCreated},
			SecretOutput: true,
		}, Handle: func(ctx context.Context, in CreateSandboxInput) (NewSandboxWithKey, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return NewSandboxWithKey{}, err
			}
			if t.Parent != "" { // the store refuses it too; this says so before anything else
				return NewSandboxWithKey{}, sandboxError(store.ErrSandboxNesting)
			}
			req := store.NewSandbox{Plan: in.Plan, TTL: store.DefaultSandboxTTL}
			if in.Name != "" {
				req.Name = &in.Name
			}
			if in.TTLSeconds > 0 {
				req.TTL = time.Duration(in.TTLSeconds) * time.Second
			}
			sb, keyID, secret, err := s.CreateSandbox(ctx, t, req)
			if err != nil {
				return NewSandboxWithKey{}, sandboxError(err)
			}
			out := NewSandboxWithKey{Sandbox: sandboxOut(sb)}
			out.APIKey = NewAPIKey{APIKey: APIKey{ID: keyID, Object: "api_key", Mode: string(auth.Test), Prefix: secret[:len("sk_test_")],
				Last4: secret[len(secret)-4:], CreatedAt: sb.CreatedAt.UTC()}, Secret: secret}
			return out, nil
		}},
		&Capability[ListSandboxesInput, List[Sandbox]]{Info: Info{
			Name: "list_sandboxes", Title: "List sandboxes", Toolset: "sandboxes",
			Description: "List the sandboxes this workspace made with keys of the calling key's mode and that have not expired, " +
				"newest first (keys are never shown). Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/sandboxes", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListSandboxesInput) (List[Sandbox], error) {
			out := List[Sandbox]{Object: "list"}
			t, err := callerOf(ctx)
			if err != nil {
				return out, err
			}
			sbs, err := s.ListSandboxes(ctx, t)
			if err != nil {
				return out, err
			}
			all := make([]Sandbox, len(sbs))
			for i, sb := range sbs {
				all[i] = sandboxOut(sb)
			}
			out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(sb Sandbox) string { return sb.ID })
			return out, err
		}},
		&Capability[SandboxIDInput, Sandbox]{Info: Info{
			Name: "get_sandbox", Title: "Get sandbox", Toolset: "sandboxes",
			Description: "Fetch one sandbox of this workspace by id (sbx_…): its name, plan and when it expires. Returns the sandbox.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/sandboxes/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in SandboxIDInput) (Sandbox, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return Sandbox{}, err
			}
			sb, err := s.GetSandbox(ctx, t, string(in.ID))
			if errors.Is(err, store.ErrNotFound) {
				return Sandbox{}, NotFound("sandbox", string(in.ID))
			}
			return sandboxOut(sb), err
		}},
		&Capability[SandboxIDInput, Deleted]{Info: Info{
			Name: "delete_sandbox", Title: "Delete sandbox", Toolset: "sandboxes",
			Description: "Delete a sandbox of this workspace by id (sbx_…) now, with all its data and keys, which stop working " +
				"at once. Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/sandboxes/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in SandboxIDInput) (Deleted, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return Deleted{}, err
			}
			_, err = s.DeleteSandbox(ctx, t, string(in.ID))
			if errors.Is(err, store.ErrNotFound) {
				return Deleted{}, NotFound("sandbox", string(in.ID))
			}
			if err != nil {
				return Deleted{}, err
			}
			return Deleted{ID: string(in.ID), Object: "sandbox", Deleted: true}, nil
		}},
	}
}

// sandboxError explains why a sandbox could not be made.
func sandboxError(err error) error {
	var above *store.PlanAboveParentError
	switch {
	case errors.As(err, &above):
		e := NewError(CodePlanRequired, "This workspace is on the %s plan, so its sandboxes can be on that plan at most. "+
			"Leave plan out for the workspace's own plan, or choose one of valid_options.", above.Parent)
		e.Param, e.ValidOptions = "plan", store.Plans[:slices.Index(store.Plans, above.Parent)+1]
		return e
	case errors.Is(err, store.ErrTooManySandboxes):
		return NewError(CodeLimitReached, "This workspace already has %d sandboxes, as many as it may hold at once. "+
			"Delete the ones you no longer need (list_sandboxes, delete_sandbox) or wait for them to expire, then create this one.", store.MaxSandboxes)
	case errors.Is(err, store.ErrSandboxNesting):
		return NewError(CodeForbidden, "This key belongs to a sandbox, and sandboxes cannot create sandboxes. "+
			"Create them with a key of the workspace the sandbox was made from.")
	}
	return err
}

func sandboxOut(sb store.Sandbox) Sandbox {
	return Sandbox{ID: sb.ID, Object: "sandbox", Name: sb.Name, Plan: sb.Plan, Mode: string(auth.Test),
		CreatedAt: sb.CreatedAt.UTC(), ExpiresAt: sb.ExpiresAt.UTC()}
}
