package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

// visit is a signed-in request: the session, its token, and the caller its capability calls
// run as (the session's workspace and mode, with the member's role as scopes).
type visit struct {
	store.Session
	token string
}

// memberScopes are what a member (not an owner or admin) may do: read everything, change
// records. Owners and admins have full access, as an unscoped key does.
const memberScopes auth.Scopes = "read contacts:write companies:write deals:write activities:write associations:write"

// caller is who the visit's capability calls run as.
func (v *visit) caller() auth.Caller {
	c := auth.Caller{WorkspaceID: v.WorkspaceID, Mode: v.Mode, KeyID: "dashboard"}
	if v.Role == store.RoleMember {
		c.Scopes = memberScopes
	}
	return c
}

// ctx is the request's context carrying the visit's caller.
func (v *visit) ctx(r *http.Request) context.Context {
	return auth.WithCaller(r.Context(), v.caller())
}

// in is the visit acting in mode instead of the session's.
func (v *visit) in(mode auth.Mode) *visit {
	c := *v
	c.Mode = mode
	return &c
}

// canManage reports whether the member is an owner or admin.
func (v *visit) canManage() bool { return v.Role == store.RoleOwner || v.Role == store.RoleAdmin }

// session reads the request's session; ok is false when it has none that is live.
func (d *Dashboard) session(r *http.Request) (*visit, bool, error) {
	c, err := r.Cookie(d.cookie)
	if err != nil || c.Value == "" {
		return nil, false, nil
	}
	s, err := d.store.SessionByToken(r.Context(), auth.HashKey(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &visit{Session: s, token: c.Value}, true, nil
}

// signedIn wraps a handler that needs a session: without one the browser goes to sign in
// and comes back.
func (d *Dashboard) signedIn(h func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return d.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := d.session(r)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		if !ok {
			if r.Method != http.MethodGet {
				d.errorPage(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again, then repeat what you were doing.")
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, v)
	}))
}

// member wraps a page of a workspace: it needs a session showing a workspace the user
// belongs to; without one the browser goes to the workspaces page.
func (d *Dashboard) member(h func(*Dashboard, http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return d.signedIn(func(w http.ResponseWriter, r *http.Request, v *visit) {
		if v.WorkspaceID == "" {
			http.Redirect(w, r, "/workspaces", http.StatusSeeOther)
			return
		}
		h(d, w, r, v)
	})
}

// startSession opens a session for user and sets its cookie.
func (d *Dashboard) startSession(w http.ResponseWriter, r *http.Request, user string) error {
	token, err := d.accounts.NewSession(r.Context(), user, r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, d.sessionCookie(token, accounts.SessionTTL))
	return nil
}

// sessionCookie is the session cookie holding token for ttl (an expired one clears it).
func (d *Dashboard) sessionCookie(token string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{Name: d.cookie, Value: token, Path: "/", MaxAge: int(ttl.Seconds()), HttpOnly: true,
		Secure: d.secure, SameSite: http.SameSiteLaxMode}
}

// flash is a one-line notice shown on the next page, carried in a short-lived cookie.
type flash struct {
	Error bool
	Text  string
}

const flashCookie = "relm_flash"

// redirect sends the browser to path (a local one; anything else goes home) with a notice.
func (d *Dashboard) redirect(w http.ResponseWriter, r *http.Request, path string, f flash) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/"
	}
	if f.Text != "" {
		kind := "ok:"
		if f.Error {
			kind = "error:"
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + f.Text), Path: "/", MaxAge: 60,
			HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash reads and clears the notice for this page.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	text, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	if t, ok := strings.CutPrefix(text, "error:"); ok {
		return &flash{Error: true, Text: t}
	}
	if t, ok := strings.CutPrefix(text, "ok:"); ok {
		return &flash{Text: t}
	}
	return nil
}

// errorText is what a person reads for a capability's error. A scope refusal can only come
// from a member's role here, so it says that rather than speaking of API keys.
func errorText(err *tools.Error) string {
	if err.Code == tools.CodeInsufficientScope {
		return "Your role in this workspace (member) lets you read everything and change records, but not this. Ask an owner or admin to do it, or to make you an admin."
	}
	return err.Message
}

// errStatus is the HTTP status a page answers with for a capability's error.
func errStatus(err *tools.Error) int {
	if err.Status < 400 || err.Status > 599 {
		return http.StatusInternalServerError
	}
	return err.Status
}
