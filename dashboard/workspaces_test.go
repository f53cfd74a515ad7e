package dashboard_test

import (
	"github.com/relmcrm/relm/auth"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/accounts"
)

// workspaceID is the id of the workspace the browser's pages show, read from the switcher.
func workspaceID(t *testing.T, b *browser) string {
	t.Helper()
	p := b.get("/members")
	m := regexp.MustCompile(`<option value="(ws_[a-z2-7]+)" selected>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no workspace selected on %s:\n%s", p.URL, p.Body)
	}
	return m[1]
}

// TestWorkspacesAndModes: a user creates workspaces, switches between them and between
// live and test mode; the name of another workspace is refused; a workspace they do not
// belong to cannot be switched to.
func TestWorkspacesAndModes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ada := e.owner("ada@example.com", "Ada's shop")
	must(t, ada.get("/contacts"), http.StatusOK, "test mode", "Ada&#39;s shop")
	first := workspaceID(t, ada)
	must(t, ada.post("/workspaces", url.Values{"name": {"Second"}}), http.StatusOK, "Workspace Second created")
	second := workspaceID(t, ada)
	if second == first {
		t.Fatal("creating a workspace did not switch to it")
	}
	must(t, ada.post("/workspaces", url.Values{"name": {"Ada's shop"}}), http.StatusOK, "exists already")
	must(t, ada.post("/workspaces", url.Values{"name": {""}}), http.StatusOK, "Name the workspace")

	p := ada.post("/workspaces/switch", url.Values{"workspace_id": {first}, "mode": {"live"}, "back": {"/contacts"}})
	must(t, p, http.StatusOK, "live mode")
	if workspaceID(t, ada) != first {
		t.Fatal("switching did not show the first workspace")
	}

	bob := e.owner("bob@example.com", "Bob's")
	must(t, bob.post("/workspaces/switch", url.Values{"workspace_id": {first}, "back": {"/contacts"}}), http.StatusOK, "not a member of that workspace")
	must(t, bob.get("/contacts"), http.StatusOK, "Bob&#39;s")

	// Records made in one mode are not seen in the other, nor in another workspace.
	must(t, ada.post("/actions/create_contact", url.Values{"email": {"live@example.com"}, "back": {"/contacts"}}), http.StatusOK, "Done.")
	must(t, ada.get("/contacts"), http.StatusOK, "live@example.com")
	ada.post("/workspaces/switch", url.Values{"mode": {"test"}, "back": {"/contacts"}})
	if p := ada.get("/contacts"); p.Status != http.StatusOK || contains(p.Body, "live@example.com") {
		t.Fatalf("test mode shows a live contact: %d", p.Status)
	}
	if p := bob.get("/contacts"); contains(p.Body, "live@example.com") {
		t.Fatal("another workspace shows Ada's contact")
	}
}

// TestInvitations: an owner invites by email; the invitee signs in with that address,
// accepts, and works in the workspace as a member, who may change records but not keys.
func TestInvitations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("olga@example.com", "Olga Inc")
	must(t, owner.post("/members/invite", url.Values{"email": {"not-an-address"}, "role": {"member"}}), http.StatusOK, "Enter the email address")
	must(t, owner.post("/members/invite", url.Values{"email": {"max@example.com"}, "role": {"superuser"}}), http.StatusOK, "Choose a role")
	must(t, owner.post("/members/invite", url.Values{"email": {"max@example.com"}, "role": {"member"}}), http.StatusOK,
		"Invitation sent to max@example.com", "invited, until")
	link := linkIn(t, e, e.mailTo("max@example.com"))

	// Someone else signed in cannot use it.
	eve := e.signIn("eve@example.com")
	must(t, eve.get(link), http.StatusOK, "The invitation is for max@example.com")
	u, _ := url.Parse(link)
	must(t, eve.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusForbidden, "for another address")

	// Opening the link signed out goes through sign-in and back to the invitation.
	max := e.browser()
	p := max.get(link)
	if p.URL != "/signin" {
		t.Fatalf("signed out, the invitation opened %s", p.URL)
	}
	must(t, max.post("/signin", url.Values{"email": {"max@example.com"}, "next": {link}}), http.StatusOK)
	p = max.post("/signin/code", url.Values{"email": {"max@example.com"}, "code": {codeIn(t, e.mailTo("max@example.com"))}, "next": {link}})
	must(t, p, http.StatusOK, "You are invited to <strong>Olga Inc</strong> as member", "Join the workspace")
	must(t, max.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusOK, "You joined the workspace.", "Olga Inc")
	must(t, max.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusForbidden) // once

	// A member changes records, but may not manage keys or invite.
	must(t, max.post("/actions/create_contact", url.Values{"email": {"lead@example.com"}, "back": {"/contacts"}}), http.StatusOK, "Done.")
	must(t, max.post("/api-keys", url.Values{"mode": {"test"}}), http.StatusOK, "Ask an owner or admin") // refused: the flash names the scope
	must(t, max.post("/members/invite", url.Values{"email": {"x@example.com"}, "role": {"member"}}), http.StatusOK, "Only owners invite admins")
	must(t, owner.get("/members"), http.StatusOK, "max@example.com", "member since")

	// The owner removes the member, whose pages then send them to the workspaces page.
	id := userID(t, e, "max@example.com")
	must(t, owner.post("/members/remove", url.Values{"id": {id}}), http.StatusOK, "Removed.")
	if p := max.get("/contacts"); p.URL != "/workspaces" {
		t.Fatalf("a removed member still sees the workspace: %s", p.URL)
	}
	// The last owner cannot be removed.
	must(t, owner.post("/members/remove", url.Values{"id": {userID(t, e, "olga@example.com")}}), http.StatusOK, "keeps at least one owner")
}

// TestPlanIsSetByOwners: owners set the plan; the limits follow it.
func TestPlanIsSetByOwners(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("pat@example.com", "Pat Co")
	must(t, owner.get("/members"), http.StatusOK, `<option value="free" selected>free</option>`)
	must(t, owner.post("/members/plan", url.Values{"plan": {"gold"}}), http.StatusOK, "Choose a plan")
	must(t, owner.post("/members/plan", url.Values{"plan": {"team"}}), http.StatusOK, "The workspace is on the team plan.",
		`<option value="team" selected>team</option>`)
}

// TestFirstWorkspaceClaim: the workspace made at first start goes to whoever opens the
// claim link, once; or to the first sign-in with the owner's address.
func TestFirstWorkspaceClaim(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ws, _, err := e.Admin.EnsureWorkspace(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	token := accounts.NewToken()
	if claimed, err := e.Admin.OfferWorkspace(t.Context(), ws.ID, "", auth.HashKey(token)); err != nil || claimed {
		t.Fatalf("offer: %v %v", claimed, err)
	}
	b := e.signIn("first@example.com")
	must(t, b.get("/claim?token="+token), http.StatusOK, "Claim the workspace")
	must(t, b.post("/claim", url.Values{"token": {token}}), http.StatusOK, "The workspace is yours", "default", "owner")
	must(t, e.signIn("late@example.com").post("/claim", url.Values{"token": {token}}), http.StatusNotFound, "used already")
	if claimed, err := e.Admin.OfferWorkspace(t.Context(), ws.ID, "", auth.HashKey(accounts.NewToken())); err != nil || !claimed {
		t.Fatalf("a claimed workspace was offered again: %v %v", claimed, err)
	}

	other, _, err := e.Admin.EnsureWorkspace(t.Context(), "second")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Admin.OfferWorkspace(t.Context(), other.ID, "Boss@Example.com", auth.HashKey(accounts.NewToken())); err != nil {
		t.Fatal(err)
	}
	must(t, e.signIn("boss@example.com").get("/contacts"), http.StatusOK, "second", "owner")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
