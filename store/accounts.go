package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// The people side of Relm (migration 00018): users, sign-in codes, sessions, memberships,
// invitations and the first-start claim. No tenant is known when these run, so each goes
// through a definer function doing one narrow thing; secrets arrive here already hashed.

// Roles a member can have in a workspace, most powerful first.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// ErrRefused means the user may not do what was asked, or what it names is gone (an
// invitation used up, a link expired): the definer functions do not say which.
var ErrRefused = errors.New("store: refused")

// ErrNameTaken means another workspace has the name.
var ErrNameTaken = errors.New("store: workspace name taken")

// NewSignInCode stores a sign-in code and link (their hashes) for address, valid for ttl,
// unless the address asked for maxRecent codes within window already (ErrRefused).
func (s *Store) NewSignInCode(ctx context.Context, address string, code, link []byte, ttl time.Duration, maxRecent int, window time.Duration) error {
	var stored bool
	err := s.pool.QueryRow(ctx, `SELECT relm_new_sign_in_code($1, $2, $3, $4, $5, $6, $7)`,
		NewID("sic_"), address, code, link, ttl, maxRecent, window).Scan(&stored)
	if err != nil {
		return fmt.Errorf("store: new sign-in code: %w", outage(err))
	}
	if !stored {
		return ErrRefused
	}
	return nil
}

// CodeOutcome is what checking a sign-in code found.
type CodeOutcome string

// The outcomes of UseSignInCode.
const (
	CodeOK      CodeOutcome = "ok"      // used up; the user is signed in
	CodeWrong   CodeOutcome = "wrong"   // not the code; guesses remain
	CodeLocked  CodeOutcome = "locked"  // too many wrong guesses: the code is dead
	CodeExpired CodeOutcome = "expired" // no code is waiting for the address
)

// UseSignInCode checks code (its hash) against address's newest waiting code, counting the
// guess; with CodeOK it returns the user it signs in, made on first sign-in.
func (s *Store) UseSignInCode(ctx context.Context, address string, code []byte, maxAttempts int) (CodeOutcome, string, error) {
	var outcome string
	var user *string
	err := s.pool.QueryRow(ctx, `SELECT outcome, user_id FROM relm_use_sign_in_code($1, $2, $3, $4)`,
		address, code, maxAttempts, NewID("usr_")).Scan(&outcome, &user)
	if err != nil {
		return "", "", fmt.Errorf("store: use sign-in code: %w", outage(err))
	}
	if user == nil {
		return CodeOutcome(outcome), "", nil
	}
	return CodeOutcome(outcome), *user, nil
}

// SignInLinkAddress is the address a sign-in link (its hash) signs in while it can be used;
// ErrNotFound otherwise.
func (s *Store) SignInLinkAddress(ctx context.Context, link []byte) (string, error) {
	var address string
	if err := s.pool.QueryRow(ctx, `SELECT relm_sign_in_link($1)`, link).Scan(&address); err != nil {
		return "", fmt.Errorf("store: sign-in link: %w", outage(err))
	}
	if address == "" {
		return "", ErrNotFound
	}
	return address, nil
}

// UseSignInLink uses a sign-in link (its hash) up and returns the user it signs in;
// ErrNotFound when it cannot be used.
func (s *Store) UseSignInLink(ctx context.Context, link []byte) (string, error) {
	return s.userOrRefused(ctx, ErrNotFound, `SELECT relm_use_sign_in_link($1, $2)`, link, NewID("usr_"))
}

// UserForGoogle is the user a Google account signs in (subject is its OpenID subject,
// address its verified email), made or linked to the address's user on first sign-in.
// ErrRefused when the address's user is tied to another Google account.
func (s *Store) UserForGoogle(ctx context.Context, subject, address string) (string, error) {
	return s.userOrRefused(ctx, ErrRefused, `SELECT relm_user_for_google($1, $2, $3)`, NewID("usr_"), subject, address)
}

// userOrRefused runs a definer function returning a user id or NULL (refused).
func (s *Store) userOrRefused(ctx context.Context, refused error, sql string, args ...any) (string, error) {
	var user *string
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&user); err != nil {
		return "", fmt.Errorf("store: sign in: %w", outage(err))
	}
	if user == nil {
		return "", refused
	}
	return *user, nil
}

// NewSession stores a session (its token's hash) for user, lasting ttl, showing the first
// workspace the user belongs to in test mode.
func (s *Store) NewSession(ctx context.Context, token []byte, user, agent string, ttl time.Duration) error {
	if _, err := s.pool.Exec(ctx, `SELECT relm_new_session($1, $2, $3, $4, $5)`, NewID("ses_"), token, user, agent, ttl); err != nil {
		return fmt.Errorf("store: new session: %w", outage(err))
	}
	return nil
}

// Session is a signed-in browser: its user and the workspace and mode its pages show
// (WorkspaceID "" when the user belongs to none, or to it no longer).
type Session struct {
	ID, UserID, Email string
	WorkspaceID       string
	WorkspaceName     string
	Plan              string
	Mode              auth.Mode
	Role              string
}

// SessionByToken finds the live session with token (its hash); ErrNotFound when there is
// none, it expired or it was signed out.
func (s *Store) SessionByToken(ctx context.Context, token []byte) (Session, error) {
	var ss Session
	var ws, name, plan, role *string
	err := s.pool.QueryRow(ctx, `SELECT session_id, user_id, email, workspace_id, workspace_name, plan, mode, role FROM relm_session($1)`,
		token).Scan(&ss.ID, &ss.UserID, &ss.Email, &ws, &name, &plan, &ss.Mode, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return ss, ErrNotFound
	}
	if err != nil {
		return ss, fmt.Errorf("store: session: %w", outage(err))
	}
	if ws != nil {
		ss.WorkspaceID, ss.WorkspaceName, ss.Plan, ss.Role = *ws, *name, *plan, *role
	}
	return ss, nil
}

// EndSessions signs out the session with token (its hash), or with everywhere every session
// of its user, and returns how many it ended.
func (s *Store) EndSessions(ctx context.Context, token []byte, everywhere bool) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_end_sessions($1, $2)`, token, everywhere).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", outage(err))
	}
	return n, nil
}

// SwitchSession makes the session with token (its hash) show workspace ws in mode;
// ErrRefused when its user is not a member of ws.
func (s *Store) SwitchSession(ctx context.Context, token []byte, ws string, mode auth.Mode) error {
	return s.allowed(ctx, "switch workspace", `SELECT relm_switch_session($1, $2, $3)`, token, ws, mode)
}

// allowed runs a definer function answering whether it did what was asked; ErrRefused if not.
func (s *Store) allowed(ctx context.Context, what, sql string, args ...any) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&ok); err != nil {
		return fmt.Errorf("store: %s: %w", what, outage(err))
	}
	if !ok {
		return ErrRefused
	}
	return nil
}

// Membership is a workspace a user belongs to, with their role there.
type Membership struct {
	WorkspaceID string    `db:"workspace_id"`
	Name        string    `db:"name"`
	Plan        string    `db:"plan"`
	Role        string    `db:"role"`
	CreatedAt   time.Time `db:"created_at"`
}

// UserWorkspaces lists the workspaces user belongs to, by name.
func (s *Store) UserWorkspaces(ctx context.Context, user string) ([]Membership, error) {
	rows, _ := s.pool.Query(ctx, `SELECT workspace_id, name, plan, role, created_at FROM relm_user_workspaces($1)`, user)
	ms, err := pgx.CollectRows(rows, pgx.RowToStructByName[Membership])
	if err != nil {
		return nil, fmt.Errorf("store: user workspaces: %w", outage(err))
	}
	return ms, nil
}

// CreateUserWorkspace makes a workspace called name owned by user and returns its id;
// ErrNameTaken when another workspace has the name.
func (s *Store) CreateUserWorkspace(ctx context.Context, user, name string) (string, error) {
	id := NewID("ws_")
	err := s.allowed(ctx, "create workspace", `SELECT relm_create_user_workspace($1, $2, $3)`, user, id, name)
	if errors.Is(err, ErrRefused) {
		return "", ErrNameTaken
	}
	return id, err
}

// SetPlan moves workspace ws to plan for its owner user; ErrRefused when user does not own it.
func (s *Store) SetPlan(ctx context.Context, user, ws, plan string) error {
	return s.allowed(ctx, "set plan", `SELECT relm_set_plan($1, $2, $3)`, user, ws, plan)
}

// Person is a member of a workspace (Kind "member", ID the user) or an open invitation
// (Kind "invitation", with its expiry).
type Person struct {
	Kind      string     `db:"kind"`
	ID        string     `db:"id"`
	Email     string     `db:"email"`
	Role      string     `db:"role"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt *time.Time `db:"expires_at"`
}

// WorkspacePeople lists the members and open invitations of ws, for user, a member of it
// (none otherwise).
func (s *Store) WorkspacePeople(ctx context.Context, user, ws string) ([]Person, error) {
	rows, _ := s.pool.Query(ctx, `SELECT kind, id, email, role, created_at, expires_at FROM relm_workspace_people($1, $2)`, user, ws)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Person])
	if err != nil {
		return nil, fmt.Errorf("store: workspace people: %w", outage(err))
	}
	return ps, nil
}

// Invite stores user's invitation of address to ws with role (its token's hash), open for
// ttl; ErrRefused when user may not invite with that role.
func (s *Store) Invite(ctx context.Context, user, ws, address, role string, token []byte, ttl time.Duration) error {
	return s.allowed(ctx, "invite", `SELECT relm_invite($1, $2, $3, $4, $5, $6, $7)`, user, ws, NewID("inv_"), address, role, token, ttl)
}

// Invitation is an open invitation to a workspace.
type Invitation struct {
	WorkspaceID   string `db:"workspace_id"`
	WorkspaceName string `db:"workspace_name"`
	Email         string `db:"email"`
	Role          string `db:"role"`
}

// InvitationByToken finds the open invitation with token (its hash); ErrNotFound otherwise.
func (s *Store) InvitationByToken(ctx context.Context, token []byte) (Invitation, error) {
	rows, _ := s.pool.Query(ctx, `SELECT workspace_id, workspace_name, email, role FROM relm_invitation($1)`, token)
	inv, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("store: invitation: %w", outage(err))
	}
	return inv, nil
}

// AcceptInvitation makes user a member through the open invitation with token (its hash),
// sent to user's address, and returns its workspace; ErrRefused otherwise.
func (s *Store) AcceptInvitation(ctx context.Context, user string, token []byte) (string, error) {
	return s.userOrRefused(ctx, ErrRefused, `SELECT relm_accept_invitation($1, $2)`, user, token)
}

// RemovePerson removes a member or withdraws an invitation (person is its id) of ws, as
// user; ErrRefused when user may not, or person is the last owner or unknown.
// Removing a member revokes the OAuth grants they made in ws, at once in this process.
func (s *Store) RemovePerson(ctx context.Context, user, ws, person string) error {
	err := s.allowed(ctx, "remove member", `SELECT relm_remove_person($1, $2, $3)`, user, ws, person)
	s.keys.invalidate(s.keys.isListening())
	return err
}

// ClaimWorkspace makes user the owner of the first-start workspace with the claim link's
// token (its hash) and returns it; ErrRefused when the link was used or replaced.
func (s *Store) ClaimWorkspace(ctx context.Context, user string, token []byte) (string, error) {
	return s.userOrRefused(ctx, ErrRefused, `SELECT relm_claim_workspace($1, $2)`, user, token)
}

// PurgeSessions deletes sessions that ended or expired more than a week ago, and dead
// sign-in codes; it returns how many sessions went.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_purge_sessions()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: purge sessions: %w", err)
	}
	return n, nil
}

// OfferWorkspace waits for an owner of workspace ws, which has no members: the first user
// to sign in with ownerEmail (if not "") or to open the claim link whose token hashes to
// token. It replaces any earlier offer. claimed is true, and nothing is stored, when the
// workspace already has a member.
func (a *Admin) OfferWorkspace(ctx context.Context, ws, ownerEmail string, token []byte) (claimed bool, err error) {
	var email *string
	if ownerEmail != "" {
		email = &ownerEmail
	}
	err = a.pool.QueryRow(ctx, `
		WITH offer AS (
			INSERT INTO workspace_claims (workspace_id, owner_email, token_hash)
			SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1)
			ON CONFLICT (workspace_id) DO UPDATE SET owner_email = excluded.owner_email, token_hash = excluded.token_hash,
				created_at = now()
			RETURNING 1)
		SELECT NOT EXISTS (SELECT 1 FROM offer)`, ws, email, token).Scan(&claimed)
	if err != nil {
		return false, fmt.Errorf("store: offer workspace: %w", err)
	}
	return claimed, nil
}
