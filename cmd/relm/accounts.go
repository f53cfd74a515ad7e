package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/relmcrm/relm/auth"
	"io"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/store"
)

// accountFlags configure the dashboard's sign-in: where its mail goes and Google sign-in.
type accountFlags struct {
	ownerEmail, mailDir, mailFrom, smtpURL, resendKey string
	googleIssuer, googleClientID, googleSecret        string
}

func (f *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ownerEmail, "owner-email", env("RELM_OWNER_EMAIL", ""), "the first user to sign in to the dashboard with this address owns the "+
		"workspace made at first start (otherwise whoever opens the claim link printed at start) (RELM_OWNER_EMAIL)")
	fs.StringVar(&f.mailDir, "mail-dir", env("RELM_MAIL_DIR", ""), "with neither --smtp-url nor --mail-resend-key, sign-in codes and invitations "+
		"are written here as .eml files; default <data-dir>/mail (RELM_MAIL_DIR)")
	fs.StringVar(&f.mailFrom, "mail-from", env("RELM_MAIL_FROM", "Relm <relm@localhost>"), "sender of sign-in codes and invitations (RELM_MAIL_FROM)")
	fs.StringVar(&f.smtpURL, "smtp-url", env("RELM_SMTP_URL", ""), "send sign-in codes and invitations through this mail server, "+
		"smtp://user:password@host:587 (RELM_SMTP_URL)")
	fs.StringVar(&f.resendKey, "mail-resend-key", env("RELM_MAIL_RESEND_KEY", ""), "send sign-in codes and invitations through the "+
		"operator's Resend account with this API key; --mail-from must be on a domain verified there (RELM_MAIL_RESEND_KEY)")
	fs.StringVar(&f.googleIssuer, "google-issuer", env("RELM_GOOGLE_ISSUER", "https://accounts.google.com"), "OpenID Connect issuer of "+
		"\"Sign in with Google\" (RELM_GOOGLE_ISSUER)")
	fs.StringVar(&f.googleClientID, "google-client-id", env("RELM_GOOGLE_CLIENT_ID", ""), "OAuth client id for Google sign-in; "+
		"unset, the dashboard offers email codes only (RELM_GOOGLE_CLIENT_ID)")
	fs.StringVar(&f.googleSecret, "google-client-secret", env("RELM_GOOGLE_CLIENT_SECRET", ""), "OAuth client secret for Google sign-in (RELM_GOOGLE_CLIENT_SECRET)")
}

// check refuses contradictory flags before anything starts.
func (f *accountFlags) check() error {
	if f.smtpURL != "" && f.resendKey != "" {
		return errors.New("give --smtp-url or --mail-resend-key, not both")
	}
	if f.smtpURL != "" {
		if _, err := accounts.ParseSMTP(f.smtpURL, f.mailFrom); err != nil {
			return fmt.Errorf("--smtp-url (RELM_SMTP_URL): %w", err)
		}
	}
	if (f.googleClientID == "") != (f.googleSecret == "") {
		return errors.New("Google sign-in needs both --google-client-id and --google-client-secret")
	}
	return nil
}

// service is the sign-in service over s, mailing through SMTP, Resend or files.
func (f *accountFlags) service(s *store.Store, dbf *dbFlags, resend *email.Client, publicURL string, secret []byte, log *slog.Logger) *accounts.Service {
	var m accounts.Mailer
	switch {
	case f.smtpURL != "":
		m, _ = accounts.ParseSMTP(f.smtpURL, f.mailFrom) // checked by check
	case f.resendKey != "":
		m = accounts.Resend{Client: resend, APIKey: f.resendKey, From: f.mailFrom}
	default:
		dir := f.mailDir
		if dir == "" {
			dir = filepath.Join(dbf.dataDir, "mail")
		}
		m = accounts.MailDir{Dir: dir, From: f.mailFrom, Log: log}
		log.Info("sign-in codes and invitations are written as files, not sent (configure --smtp-url or --mail-resend-key to send them)", "mail_dir", dir)
	}
	svc := accounts.NewService(s, m, publicURL, secret)
	if f.googleClientID != "" {
		svc.Google = &accounts.Google{Issuer: f.googleIssuer, ClientID: f.googleClientID, ClientSecret: f.googleSecret,
			RedirectURL: svc.PublicURL + "/signin/google/callback"}
	}
	return svc
}

// offerFirstWorkspace waits for an owner of the first workspace while it has no member: it
// stores a new claim link (replacing older ones) and returns its token; "" once claimed.
func (f *accountFlags) offerFirstWorkspace(ctx context.Context, db *database) (string, error) {
	names, err := db.Admin.WorkspaceNames(ctx)
	if err != nil || len(names) == 0 {
		return "", err
	}
	name := names[0]
	if slices.Contains(names, "default") {
		name = "default"
	}
	ws, err := db.Admin.WorkspaceByName(ctx, name)
	if err != nil {
		return "", err
	}
	token := accounts.NewToken()
	claimed, err := db.Admin.OfferWorkspace(ctx, ws.ID, f.ownerEmail, auth.HashKey(token))
	if err != nil || claimed {
		return "", err
	}
	return token, nil
}

// printClaim says how to take ownership of the first workspace in the dashboard.
func (f *accountFlags) printClaim(stdout io.Writer, publicURL, token string) {
	if token == "" {
		return
	}
	if f.ownerEmail != "" {
		fmt.Fprintf(stdout, "The dashboard is at %s/. The first workspace goes to the first person who signs in as %s, "+
			"or who opens this one-time link: %s/claim?token=%s\n", publicURL, f.ownerEmail, publicURL, token)
		return
	}
	fmt.Fprintf(stdout, "The dashboard is at %s/. To own the first workspace, sign in and open this one-time link "+
		"(a new one is printed at each start until it is used): %s/claim?token=%s\n", publicURL, publicURL, token)
}
