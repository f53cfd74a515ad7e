package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/oauth"
	"github.com/relmcrm/relm/store"
)

// The OAuth authorization endpoint's pages (docs/oauth.md): a person signed in to the
// dashboard consents to an MCP connector, choosing workspace, mode and access; and
// "Connected apps" lists and revokes what they granted.

func (d *Dashboard) routeOAuth(mux *http.ServeMux) {
	mux.Handle("GET /oauth/authorize", d.guard(http.HandlerFunc(d.authorizePage)))
	mux.Handle("POST /oauth/authorize", d.signedIn(d.authorize))
	mux.Handle("GET /apps", d.signedIn(d.appsPage))
	mux.Handle("POST /apps/revoke", d.signedIn(d.revokeApp))
}

// consentForm is the consent page's data.
type consentForm struct {
	Client       string // its name, or its id when it gave none
	ClientID     string
	RedirectHost string
	ReadOnly     bool
	Params       url.Values
	Workspaces   []store.Membership
	Selected     string
}

// checkAuthorization checks the request's authorization parameters; when they are refused
// it has answered (an error page, or back to the client with the error).
func (d *Dashboard) checkAuthorization(w http.ResponseWriter, r *http.Request, params url.Values) (*oauth.Authorization, bool) {
	a, err := d.oauth.CheckAuthorization(r.Context(), params)
	var ae *oauth.AuthorizationError
	switch {
	case errors.As(err, &ae) && ae.Redirect:
		http.Redirect(w, r, ae.RedirectURL(), http.StatusSeeOther)
		return nil, false
	case errors.As(err, &ae):
		d.errorPage(w, r, http.StatusBadRequest, ae.Description)
		return nil, false
	case err != nil:
		d.fail(w, r, err)
		return nil, false
	}
	return a, true
}

// authorizePage checks the request, then asks a signed-in person for consent; anyone else
// signs in first and comes back.
func (d *Dashboard) authorizePage(w http.ResponseWriter, r *http.Request) {
	a, ok := d.checkAuthorization(w, r, r.URL.Query())
	if !ok {
		return
	}
	v, signed, err := d.session(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if !signed {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	ws, err := d.store.UserWorkspaces(r.Context(), v.UserID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if len(ws) == 0 {
		d.errorPage(w, r, http.StatusForbidden, "You belong to no workspace yet. Create one at /workspaces, then connect the application again.")
		return
	}
	u, _ := url.Parse(a.RedirectURI)
	// The form posts here and is answered with a redirect to the client, which browsers
	// check against form-action too: allow the redirect URI's origin, and only it.
	w.Header().Set("Content-Security-Policy", strings.Replace(w.Header().Get("Content-Security-Policy"),
		"form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
	f := consentForm{Client: a.Client.Name, ClientID: a.Client.ID, RedirectHost: u.Host, ReadOnly: a.ReadOnly, Params: a.Params,
		Workspaces: ws, Selected: v.WorkspaceID}
	if f.Client == "" {
		f.Client = a.Client.ID
	}
	d.render(w, r, v, "consent", "Connect an application", f)
}

// authorize is the consent form's answer: a code back to the client, or access_denied.
func (d *Dashboard) authorize(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := r.ParseForm(); err != nil {
		d.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Connect the application again.")
		return
	}
	a, ok := d.checkAuthorization(w, r, r.PostForm)
	if !ok {
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		http.Redirect(w, r, d.oauth.Deny(a), http.StatusSeeOther)
		return
	}
	mode, okMode := auth.ParseMode(r.PostForm.Get("mode"))
	access := r.PostForm.Get("access")
	if !okMode || (access != "read" && access != "write") {
		d.errorPage(w, r, http.StatusBadRequest, "Choose the mode (test or live) and the access (read-only or read and write), then allow again.")
		return
	}
	role := ""
	ws, err := d.store.UserWorkspaces(r.Context(), v.UserID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	for _, m := range ws {
		if m.WorkspaceID == r.PostForm.Get("workspace_id") {
			role = m.Role
		}
	}
	if role == "" {
		d.errorPage(w, r, http.StatusForbidden, "You are not a member of that workspace. Connect the application again and choose one of yours.")
		return
	}
	// Read and write is what the person may do themselves: a member's grant gets a
	// member's scopes, never an owner's.
	scopes := auth.Scopes("read")
	if access == "write" {
		scopes = auth.Full
		if role == store.RoleMember {
			scopes = memberScopes
		}
	}
	to, err := d.oauth.Approve(r.Context(), a, oauth.Consent{UserID: v.UserID, WorkspaceID: r.PostForm.Get("workspace_id"), Mode: mode, Scopes: scopes})
	if errors.Is(err, store.ErrRefused) {
		d.errorPage(w, r, http.StatusForbidden, "You are not a member of that workspace. Connect the application again and choose one of yours.")
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// appsPage lists the applications the person connected, in every workspace.
func (d *Dashboard) appsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	grants, err := d.store.UserOAuthGrants(r.Context(), v.UserID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	apps := make([]connectedApp, len(grants))
	for i, g := range grants {
		apps[i] = connectedApp{UserOAuthGrant: g, Access: "read and write"}
		if g.Scopes != nil && *g.Scopes == "read" {
			apps[i].Access = "read only"
		} else if g.Scopes != nil {
			apps[i].Access = "read and write records (" + *g.Scopes + ")"
		}
	}
	d.render(w, r, v, "apps", "Connected apps", apps)
}

// connectedApp is a grant as Connected apps shows it.
type connectedApp struct {
	store.UserOAuthGrant
	Access string
}

// revokeApp revokes one of the person's grants: the application's tokens stop at once.
func (d *Dashboard) revokeApp(w http.ResponseWriter, r *http.Request, v *visit) {
	err := d.store.RevokeUserOAuthGrant(r.Context(), v.UserID, r.FormValue("workspace_id"), r.FormValue("id"))
	if errors.Is(err, store.ErrRefused) {
		d.redirect(w, r, "/apps", flash{Error: true, Text: "That application is not connected by you, or was disconnected already."})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/apps", flash{Text: "Disconnected: the application's access stopped at once."})
}
