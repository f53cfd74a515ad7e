package dashboard

import (
	"crypto/subtle"
	"errors"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/metering"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/store"
	"golang.org/x/oauth2"
)

func (d *Dashboard) routeSignIn(mux *http.ServeMux) {
	mux.Handle("GET /{$}", d.guard(http.HandlerFunc(d.home)))
	mux.Handle("GET /signin", d.guard(http.HandlerFunc(d.signInPage)))
	mux.Handle("POST /signin", d.guard(http.HandlerFunc(d.sendCode)))
	mux.Handle("POST /signin/code", d.guard(http.HandlerFunc(d.checkCode)))
	mux.Handle("GET /signin/link", d.guard(http.HandlerFunc(d.linkPage)))
	mux.Handle("POST /signin/link", d.guard(http.HandlerFunc(d.useLink)))
	mux.Handle("GET /signin/google", d.guard(http.HandlerFunc(d.googleStart)))
	mux.Handle("GET /signin/google/callback", d.guard(http.HandlerFunc(d.googleCallback)))
	mux.Handle("POST /signout", d.signedIn(d.signOut))
}

// home sends a signed-in person to their records, anyone else to sign in.
func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	_, ok, err := d.session(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if ok {
		http.Redirect(w, r, "/contacts", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// signInForm is the sign-in pages' data.
type signInForm struct {
	Email, Next string
	Google      bool
	Error       string
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok, err := d.session(r); err == nil && ok { // signed in already: go on
		http.Redirect(w, r, localPath(r.FormValue("next")), http.StatusSeeOther)
		return
	}
	d.render(w, r, nil, "signin", "Sign in", signInForm{Next: localPath(r.FormValue("next")), Google: d.accounts.Google != nil})
}

// sendCode mails a code and shows the form to enter it.
func (d *Dashboard) sendCode(w http.ResponseWriter, r *http.Request) {
	f := signInForm{Email: strings.TrimSpace(r.FormValue("email")), Next: localPath(r.FormValue("next")), Google: d.accounts.Google != nil}
	if !d.limits.Allow("code "+metering.ClientHost(r), codesPerClient) {
		f.Error = "Too many sign-in codes were asked for from your network. Wait 15 minutes, then try again."
		d.renderStatus(w, r, nil, http.StatusTooManyRequests, "signin", "Sign in", f)
		return
	}
	err := d.accounts.SendCode(r.Context(), f.Email)
	switch {
	case errors.Is(err, accounts.ErrBadAddress):
		f.Error = "Enter an email address, such as ada@example.com."
		d.renderStatus(w, r, nil, http.StatusBadRequest, "signin", "Sign in", f)
		return
	case errors.Is(err, accounts.ErrTooManyCodes):
		f.Error = "Too many codes were sent to this address lately. Use the newest one, or wait 15 minutes and ask again."
		d.renderStatus(w, r, nil, http.StatusTooManyRequests, "signin", "Sign in", f)
		return
	case err != nil:
		d.fail(w, r, err)
		return
	}
	d.render(w, r, nil, "code", "Enter your code", f)
}

// checkCode signs in with the mailed code.
func (d *Dashboard) checkCode(w http.ResponseWriter, r *http.Request) {
	f := signInForm{Email: strings.TrimSpace(r.FormValue("email")), Next: localPath(r.FormValue("next"))}
	if !d.limits.Allow("try "+metering.ClientHost(r), triesPerClient) {
		f.Error = "Too many sign-in attempts from your network. Wait 15 minutes, then ask for a new code."
		d.renderStatus(w, r, nil, http.StatusTooManyRequests, "code", "Enter your code", f)
		return
	}
	user, err := d.accounts.CheckCode(r.Context(), f.Email, r.FormValue("code"))
	status := http.StatusBadRequest
	switch {
	case err == nil:
		d.signedInAs(w, r, user, f.Next)
		return
	case errors.Is(err, accounts.ErrWrongCode):
		f.Error = "That code is not right. Check the newest email from Relm and enter its 6 digits."
	case errors.Is(err, accounts.ErrCodeLocked):
		f.Error = "Too many wrong codes: this one no longer works. Ask for a new code."
		status = http.StatusTooManyRequests
	case errors.Is(err, accounts.ErrCodeExpired), errors.Is(err, accounts.ErrBadAddress):
		f.Error = "No code is waiting for this address (codes last 15 minutes and work once). Ask for a new code."
	default:
		d.fail(w, r, err)
		return
	}
	d.renderStatus(w, r, nil, status, "code", "Enter your code", f)
}

// linkGone is what a used or expired sign-in link shows.
// The sign-in limits per client address, counted in process (each address also has its
// per-email limits in the database, shared by every process).
const (
	limitWindow    = 15 * time.Minute
	codesPerClient = 20 // codes asked for
	triesPerClient = 50 // codes and links checked
)

const linkGone = "This sign-in link was used already or has expired (links last 15 minutes). Ask for a new code at /signin."

// linkPage asks to confirm a sign-in link: opening it signs nobody in, so mail scanners that
// fetch links use nothing up.
func (d *Dashboard) linkPage(w http.ResponseWriter, r *http.Request) {
	token := r.FormValue("token")
	address, err := d.accounts.LinkAddress(r.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		d.errorPage(w, r, http.StatusNotFound, linkGone)
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, nil, "link", "Confirm sign-in", map[string]string{"Email": address, "Token": token})
}

func (d *Dashboard) useLink(w http.ResponseWriter, r *http.Request) {
	if !d.limits.Allow("try "+metering.ClientHost(r), triesPerClient) {
		d.errorPage(w, r, http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait 15 minutes.")
		return
	}
	user, err := d.accounts.UseLink(r.Context(), r.FormValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		d.errorPage(w, r, http.StatusNotFound, linkGone)
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.signedInAs(w, r, user, "/")
}

// signedInAs opens a session for user and goes on to next.
func (d *Dashboard) signedInAs(w http.ResponseWriter, r *http.Request, user, next string) {
	if err := d.startSession(w, r, user); err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, next, flash{})
}

const googleCookie = "relm_google"

// googleStart sends the browser to Google with a fresh state, nonce and PKCE verifier, kept
// in a short-lived cookie for the callback.
func (d *Dashboard) googleStart(w http.ResponseWriter, r *http.Request) {
	if d.accounts.Google == nil {
		d.errorPage(w, r, http.StatusNotFound, "Google sign-in is not configured on this server. Sign in with an email code.")
		return
	}
	state, nonce, verifier := accounts.NewToken(), accounts.NewToken(), oauth2.GenerateVerifier()
	to, err := d.accounts.Google.AuthURL(r.Context(), state, nonce, verifier)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	// next is escaped: a cookie's value cannot hold some of a path's characters.
	next := url.QueryEscape(strings.TrimPrefix(localPath(r.FormValue("next")), "/"))
	http.SetCookie(w, &http.Cookie{Name: googleCookie, Value: state + "." + nonce + "." + verifier + "." + next,
		Path: "/signin/google", MaxAge: 600, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (d *Dashboard) googleCallback(w http.ResponseWriter, r *http.Request) {
	if d.accounts.Google == nil {
		d.errorPage(w, r, http.StatusNotFound, "Google sign-in is not configured on this server.")
		return
	}
	c, err := r.Cookie(googleCookie)
	parts := []string{}
	if err == nil {
		parts = strings.SplitN(c.Value, ".", 4)
	}
	http.SetCookie(w, &http.Cookie{Name: googleCookie, Path: "/signin/google", MaxAge: -1, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	if len(parts) != 4 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(r.FormValue("state"))) != 1 {
		d.errorPage(w, r, http.StatusBadRequest, "This Google sign-in did not start here, or took longer than 10 minutes. Start again at /signin.")
		return
	}
	if e := r.FormValue("error"); e != "" {
		d.errorPage(w, r, http.StatusBadRequest, "Google did not sign you in ("+e+"). Try again, or sign in with an email code.")
		return
	}
	user, err := d.accounts.SignInGoogle(r.Context(), r.FormValue("code"), parts[2], parts[1])
	switch {
	case errors.Is(err, accounts.ErrUnverified):
		d.errorPage(w, r, http.StatusForbidden, "Your Google account's email address is not verified. Verify it with Google, or sign in with an email code.")
		return
	case errors.Is(err, store.ErrRefused):
		d.errorPage(w, r, http.StatusForbidden, "This email address is tied to a different Google account. Sign in with that account, or with an email code.")
		return
	case err != nil:
		d.log.WarnContext(r.Context(), "google sign-in failed", "err", err)
		d.errorPage(w, r, http.StatusBadGateway, "Google sign-in failed. Try again, or sign in with an email code.")
		return
	}
	next, err := url.QueryUnescape(parts[3])
	if err != nil {
		next = ""
	}
	d.signedInAs(w, r, user, localPath("/"+next))
}

// signOut ends this session, or with everywhere=1 every session of the user.
func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, v *visit) {
	everywhere := r.FormValue("everywhere") != ""
	if _, err := d.store.EndSessions(r.Context(), auth.HashKey(v.token), everywhere); err != nil {
		d.fail(w, r, err)
		return
	}
	http.SetCookie(w, d.sessionCookie("", -1))
	msg := "Signed out."
	if everywhere {
		msg = "Signed out on every device."
	}
	d.redirect(w, r, "/signin", flash{Text: msg})
}

// localPath is p when it is a path on this server, else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
