package dashboard

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

func (d *Dashboard) routeWorkspaces(mux *http.ServeMux) {
	mux.Handle("GET /workspaces", d.signedIn(d.workspacesPage))
	mux.Handle("POST /workspaces", d.signedIn(d.createWorkspace))
	mux.Handle("POST /workspaces/switch", d.signedIn(d.switchWorkspace))
	mux.Handle("GET /members", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.membersPage(w, r, v) }))
	mux.Handle("POST /members/invite", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.invite(w, r, v) }))
	mux.Handle("POST /members/remove", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.removePerson(w, r, v) }))
	mux.Handle("POST /members/plan", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.setPlan(w, r, v) }))
	mux.Handle("GET /invitations/accept", d.signedIn(d.invitationPage))
	mux.Handle("POST /invitations/accept", d.signedIn(d.acceptInvitation))
	mux.Handle("GET /claim", d.signedIn(d.claimPage))
	mux.Handle("POST /claim", d.signedIn(d.claim))
}

func (d *Dashboard) workspacesPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d.render(w, r, v, "workspaces", "Workspaces", nil)
}

// createWorkspace makes a workspace owned by the user and shows it.
func (d *Dashboard) createWorkspace(w http.ResponseWriter, r *http.Request, v *visit) {
	name := strings.TrimSpace(r.FormValue("name"))
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "\x00\r\n") {
		d.redirect(w, r, "/workspaces", flash{Error: true, Text: "Name the workspace: 1 to 100 characters on one line."})
		return
	}
	id, err := d.store.CreateUserWorkspace(r.Context(), v.UserID, name)
	if errors.Is(err, store.ErrNameTaken) {
		d.redirect(w, r, "/workspaces", flash{Error: true, Text: "A workspace named " + name + " exists already. Choose another name."})
		return
	}
	if err == nil {
		err = d.store.SwitchSession(r.Context(), auth.HashKey(v.token), id, auth.Test)
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/contacts", flash{Text: "Workspace " + name + " created. You are in test mode."})
}

// switchWorkspace shows another workspace, or the other mode.
func (d *Dashboard) switchWorkspace(w http.ResponseWriter, r *http.Request, v *visit) {
	mode, ok := auth.ParseMode(r.FormValue("mode"))
	if !ok {
		mode = v.Mode
	}
	ws := r.FormValue("workspace_id")
	if ws == "" {
		ws = v.WorkspaceID
	}
	err := d.store.SwitchSession(r.Context(), auth.HashKey(v.token), ws, mode)
	if errors.Is(err, store.ErrRefused) {
		d.redirect(w, r, "/workspaces", flash{Error: true, Text: "You are not a member of that workspace."})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, localPath(r.FormValue("back")), flash{})
}

func (d *Dashboard) membersPage(w http.ResponseWriter, r *http.Request, v *visit) {
	people, err := d.store.WorkspacePeople(r.Context(), v.UserID, v.WorkspaceID)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, v, "members", "Members", map[string]any{"People": people, "Plans": store.Plans,
		"Manage": v.canManage(), "Owner": v.Role == store.RoleOwner})
}

// invite mails an invitation link to an address.
func (d *Dashboard) invite(w http.ResponseWriter, r *http.Request, v *visit) {
	address, err := accounts.NormalizeAddress(r.FormValue("email"))
	if err != nil {
		d.redirect(w, r, "/members", flash{Error: true, Text: "Enter the email address to invite, such as ada@example.com."})
		return
	}
	role := r.FormValue("role")
	if role != store.RoleAdmin && role != store.RoleMember {
		d.redirect(w, r, "/members", flash{Error: true, Text: "Choose a role: admin or member."})
		return
	}
	token := accounts.NewToken()
	err = d.store.Invite(r.Context(), v.UserID, v.WorkspaceID, address, role, auth.HashKey(token), accounts.InvitationTTL)
	if errors.Is(err, store.ErrRefused) {
		d.redirect(w, r, "/members", flash{Error: true, Text: "Only owners invite admins, and only owners and admins invite members."})
		return
	}
	if err == nil {
		err = d.accounts.Mailer.Send(r.Context(), accounts.Mail{To: address, Subject: v.Email + " invited you to " + v.WorkspaceName + " on Relm",
			Text: v.Email + " invited you to join the workspace " + v.WorkspaceName + " on Relm as " + role + ".\n\nOpen this link to accept (it works for 7 days, " +
				"signed in as " + address + "):\n\n    " + d.accounts.PublicURL + "/invitations/accept?token=" + token + "\n"})
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/members", flash{Text: "Invitation sent to " + address + "."})
}

func (d *Dashboard) removePerson(w http.ResponseWriter, r *http.Request, v *visit) {
	err := d.store.RemovePerson(r.Context(), v.UserID, v.WorkspaceID, r.FormValue("id"))
	if errors.Is(err, store.ErrRefused) {
		d.redirect(w, r, "/members", flash{Error: true, Text: "You cannot remove that person: admins remove members only, and a workspace keeps at least one owner."})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/members", flash{Text: "Removed."})
}

// setPlan moves the workspace to another plan (owners only; there is no billing).
func (d *Dashboard) setPlan(w http.ResponseWriter, r *http.Request, v *visit) {
	plan := r.FormValue("plan")
	if !slices.Contains(store.Plans, plan) {
		d.redirect(w, r, "/members", flash{Error: true, Text: "Choose a plan: " + strings.Join(store.Plans, " or ") + "."})
		return
	}
	err := d.store.SetPlan(r.Context(), v.UserID, v.WorkspaceID, plan)
	if errors.Is(err, store.ErrRefused) {
		d.redirect(w, r, "/members", flash{Error: true, Text: "Only the workspace's owners set its plan."})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/members", flash{Text: "The workspace is on the " + plan + " plan."})
}

func (d *Dashboard) invitationPage(w http.ResponseWriter, r *http.Request, v *visit) {
	token := r.FormValue("token")
	inv, err := d.store.InvitationByToken(r.Context(), auth.HashKey(token))
	if errors.Is(err, store.ErrNotFound) {
		d.errorPage(w, r, http.StatusNotFound, "This invitation was used, withdrawn or has expired. Ask whoever invited you for a new one.")
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, v, "invitation", "Invitation", map[string]any{"Invitation": inv, "Token": token,
		"Match": strings.EqualFold(inv.Email, v.Email)})
}

func (d *Dashboard) acceptInvitation(w http.ResponseWriter, r *http.Request, v *visit) {
	ws, err := d.store.AcceptInvitation(r.Context(), v.UserID, auth.HashKey(r.FormValue("token")))
	if errors.Is(err, store.ErrRefused) {
		d.errorPage(w, r, http.StatusForbidden, "This invitation is for another address, or was used, withdrawn or has expired. "+
			"Sign in with the invited address, or ask for a new invitation.")
		return
	}
	d.switchTo(w, r, v, ws, err, "You joined the workspace.")
}

// switchTo shows workspace ws (joined or claimed, err saying how that went) in test mode.
func (d *Dashboard) switchTo(w http.ResponseWriter, r *http.Request, v *visit, ws string, err error, done string) {
	if err == nil {
		err = d.store.SwitchSession(r.Context(), auth.HashKey(v.token), ws, auth.Test)
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/contacts", flash{Text: done})
}

func (d *Dashboard) claimPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d.render(w, r, v, "claim", "Claim the workspace", map[string]string{"Token": r.FormValue("token")})
}

func (d *Dashboard) claim(w http.ResponseWriter, r *http.Request, v *visit) {
	ws, err := d.store.ClaimWorkspace(r.Context(), v.UserID, auth.HashKey(r.FormValue("token")))
	if errors.Is(err, store.ErrRefused) {
		d.errorPage(w, r, http.StatusNotFound, "This claim link was used already, or replaced by a newer one printed when the server last started.")
		return
	}
	d.switchTo(w, r, v, ws, err, "The workspace is yours: you are its owner.")
}
