package tools

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// OAuthGrant is an application (an MCP connector such as Claude or ChatGPT) a member
// connected to this workspace and mode with their sign-in (docs/oauth.md).
type OAuthGrant struct {
	ID         string     `json:"id" doc:"Unique id, starting with oag_."`
	Object     string     `json:"object" enum:"oauth_grant" doc:"Always \"oauth_grant\"."`
	Mode       string     `json:"mode" enum:"live,test" doc:"The mode whose data the application reaches."`
	ClientID   string     `json:"client_id" doc:"The application's OAuth client id: rc_… when it registered itself, or the https URL of its metadata document."`
	ClientName string     `json:"client_name" doc:"The name the application gave itself (unverified)."`
	UserID     string     `json:"user_id" doc:"The member who connected it (usr_…)."`
	Resource   string     `json:"resource" doc:"The resource its tokens are bound to: this server's /mcp URL."`
	Scopes     KeyScopes  `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at" doc:"When it was revoked; null while it works."`
	LastUsedAt *time.Time `json:"last_used_at" doc:"When it last made a request, to the minute; null if it never has."`
}

// OAuthGrantIDInput names one grant.
type OAuthGrantIDInput struct {
	ID OAuthGrantID `json:"id" doc:"Id of the grant (oag_…)."`
}

// ListOAuthGrantsInput pages the grants.
type ListOAuthGrantsInput struct {
	WholeListPage
}

func oauthGrantTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[ListOAuthGrantsInput, List[OAuthGrant]]{Info: Info{
			Name: "list_oauth_grants", Title: "List OAuth grants", Toolset: "api_keys",
			Description: "List the applications (MCP connectors such as Claude or ChatGPT) that members connected to this " +
				"workspace in the mode of the calling key by signing in with OAuth, newest first, revoked ones included. " +
				"Returns {data, has_more, next_cursor}: up to 200 a page (limit), then page with cursor.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/oauth_grants", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListOAuthGrantsInput) (List[OAuthGrant], error) {
			out := List[OAuthGrant]{Object: "list"}
			t, err := callerOf(ctx)
			if err != nil {
				return out, err
			}
			grants, err := s.ListTenantOAuthGrants(ctx, t)
			if err != nil {
				return out, err
			}
			all := make([]OAuthGrant, len(grants))
			for i, g := range grants {
				all[i] = oauthGrantOut(g)
			}
			out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(g OAuthGrant) string { return g.ID })
			return out, err
		}},
		&Capability[OAuthGrantIDInput, OAuthGrant]{Info: Info{
			Name: "revoke_oauth_grant", Title: "Revoke OAuth grant", Toolset: "api_keys",
			Description: "Revoke an application's OAuth grant in this workspace and mode by id (oag_…). Its access and " +
				"refresh tokens stop working immediately; to use Relm again the application must be connected again. " +
				"Returns the revoked grant.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/oauth_grants/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in OAuthGrantIDInput) (OAuthGrant, error) {
			t, err := callerOf(ctx)
			if err != nil {
				return OAuthGrant{}, err
			}
			g, err := s.RevokeTenantOAuthGrant(ctx, t, string(in.ID))
			if errors.Is(err, store.ErrNotFound) {
				return OAuthGrant{}, NotFound("oauth_grant", string(in.ID))
			}
			return oauthGrantOut(g), err
		}},
	}
}

func oauthGrantOut(g store.OAuthGrant) OAuthGrant {
	out := OAuthGrant{ID: g.ID, Object: "oauth_grant", Mode: string(g.Mode), ClientID: g.ClientID, ClientName: g.ClientName,
		UserID: g.UserID, Resource: g.Resource, CreatedAt: g.CreatedAt.UTC(), RevokedAt: g.RevokedAt, LastUsedAt: g.LastUsedAt}
	if g.Scopes != nil {
		out.Scopes = scopeList(auth.Scopes(*g.Scopes))
	}
	return out
}
