package tools

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// APIKey describes a key; the secret is never shown again after creation.
type APIKey struct {
	ID        string     `json:"id" doc:"Unique id, starting with key_."`
	Object    string     `json:"object" enum:"api_key" doc:"Always \"api_key\"."`
	Mode      string     `json:"mode" enum:"live,test" doc:"The mode whose data the key reaches."`
	Prefix    string     `json:"prefix" doc:"sk_live_ or sk_test_."`
	Last4     string     `json:"last4" doc:"The key's last four characters, to tell keys apart."`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at" doc:"When it was revoked; null while it works."`
	Scopes    KeyScopes  `json:"scopes"`
	// LastUsedAt comes from the rate limiter's windows, which the metering writes in batches.
	LastUsedAt *time.Time `json:"last_used_at" doc:"When the key last made a request, to the minute (the start of the rate-limit window it was counted in; written within about a second); null if it never has."`
}

// NewAPIKey is a freshly created key, with its secret.
type NewAPIKey struct {
	APIKey
	Secret string `json:"secret" doc:"The key itself. It is shown only in this response: store it now."`
}

// APIKeyIDInput names one key.
type APIKeyIDInput struct {
	ID APIKeyID `json:"id" doc:"Id of the key (key_…)."`
}

// CreateAPIKeyInput describes a key to make.
type CreateAPIKeyInput struct {
	Scopes []Scope `json:"scopes,omitempty" maxItems:"50" uniqueItems:"true" doc:"What the key may do: read or write (every toolset), or TOOLSET:read / TOOLSET:write (one toolset, such as contacts:write; write includes read). Within the calling key's own scopes; default: the calling key's."`
}

// ListAPIKeysInput pages the API keys.
type ListAPIKeysInput struct {
	WholeListPage
}

// NoInput is the input of capabilities without arguments.
type NoInput struct{}

func apiKeyTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[ListAPIKeysInput, List[APIKey]]{Info: Info{
			Name: "list_api_keys", Title: "List API keys", Toolset: "api_keys",
			Description: "List the API keys of this workspace in the mode of the calling key, newest first, revoked ones " +
				"included. Secrets are never shown: each key has its prefix and last 4 characters. Returns {data, has_more, " +
				"next_cursor}: up to 200 keys a page (limit), then page with cursor.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/api_keys", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListAPIKeysInput) (List[APIKey], error) {
			out := List[APIKey]{Object: "list"}
			t, err := callerOf(ctx)
			if err != nil {
				return out, err
			}
			keys, err := s.ListTenantAPIKeys(ctx, t)
			if err != nil {
				return out, err
			}
			all := make([]APIKey, len(keys))
			for i, k := range keys {
				all[i] = apiKeyOut(k)
			}
			out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(k APIKey) string { return k.ID })
			return out, err
		}},
		&Capability[CreateAPIKeyInput, NewAPIKey]{Info: Info{
			Name: "create_api_key", Title: "Create API key", Toolset: "api_keys",
			Description: "Create another API key for this workspace, in the mode of the calling key (a test key makes " +
				"test keys). A workspace holds at most 100 unrevoked keys per mode by default (limit_reached beyond; " +
				"revoke unused keys first). Returns the key with its secret, which is shown only this once.",
			REST:         &Route{Method: http.MethodPost, Path: "/v1/api_keys", Status: http.StatusCreated},
			SecretOutput: true,
		}, Handle: func(ctx context.Context, in CreateAPIKeyInput) (NewAPIKey, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return NewAPIKey{}, err
			}
			scopes, serr := scopesOf(t, in.Scopes)
			if serr != nil {
				return NewAPIKey{}, serr
			}
			maxKeys := DefaultMaxKeys
			if a, ok := AllowanceFrom(ctx); ok && a.MaxKeys > 0 {
				maxKeys = a.MaxKeys
			}
			id, secret, err := s.CreateTenantAPIKey(ctx, t, maxKeys, scopes)
			if errors.Is(err, store.ErrTooManyKeys) {
				return NewAPIKey{}, NewError(CodeLimitReached, "This workspace already has %d active %s API keys, as many as it may. "+
					"Revoke keys you no longer use (list_api_keys, revoke_api_key), then create this one.", maxKeys, t.Mode)
			}
			if err != nil {
				return NewAPIKey{}, err
			}
			return NewAPIKey{APIKey: APIKey{ID: id, Object: "api_key", Mode: string(t.Mode), Prefix: secret[:len("sk_live_")],
				Last4: secret[len(secret)-4:], CreatedAt: time.Now().UTC(), Scopes: scopeList(scopes)}, Secret: secret}, nil
		}},
		&Capability[APIKeyIDInput, APIKey]{Info: Info{
			Name: "revoke_api_key", Title: "Revoke API key", Toolset: "api_keys",
			Description: "Revoke an API key of this workspace and mode by id (key_…). It stops working immediately, " +
				"including the key making this call if it revokes itself. Returns the revoked key.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/api_keys/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in APIKeyIDInput) (APIKey, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return APIKey{}, err
			}
			k, err := s.RevokeTenantAPIKey(ctx, t, string(in.ID))
			if errors.Is(err, store.ErrNotFound) {
				return APIKey{}, NotFound("api_key", string(in.ID))
			}
			return apiKeyOut(k), err
		}},
	}
}

func apiKeyOut(k store.APIKey) APIKey {
	out := APIKey{ID: k.ID, Object: "api_key", Mode: string(k.Mode), Prefix: k.Prefix, Last4: k.Last4,
		CreatedAt: k.CreatedAt.UTC(), RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
	if k.Scopes != nil {
		out.Scopes = scopeList(auth.Scopes(*k.Scopes))
	}
	return out
}

// KeyScopes are a key's scopes as a list; null for full access.
type KeyScopes []string

// Schema is a nullable list of grants.
func (KeyScopes) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeArray, Nullable: true, Items: &huma.Schema{Type: huma.TypeString},
		Description: "What the key may do (read, write, TOOLSET:read, TOOLSET:write); null: full access."}
}

// scopeList is scopes as a list; nil (null) for full access.
func scopeList(scopes auth.Scopes) KeyScopes {
	if scopes == auth.Full {
		return nil
	}
	return strings.Fields(string(scopes))
}

// callerOf returns the authenticated caller of ctx.
func callerOf(ctx context.Context) (auth.Caller, error) {
	t, ok := auth.CallerFrom(ctx)
	if !ok {
		return t, errors.New("tools: no caller in context")
	}
	return t, nil
}
