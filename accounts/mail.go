package accounts

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relmcrm/relm/email"
)

// Mail is a plain-text message to one person.
type Mail struct {
	To, Subject, Text string
}

// Mailer sends the mail that signs people in and invites them.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// MailDir writes each message as an .eml file in Dir and logs its path: the mailer when
// neither SMTP nor Resend is configured, so development and tests can read the codes.
type MailDir struct {
	Dir, From string
	Log       *slog.Logger
}

// Send writes m to a new file in the directory.
func (d MailDir) Send(_ context.Context, m Mail) error {
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return fmt.Errorf("accounts: mail dir: %w", err)
	}
	name := time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + strings.ToLower(rand.Text()[:8]) + ".eml"
	path := filepath.Join(d.Dir, name)
	if err := os.WriteFile(path, message(d.From, m), 0o600); err != nil {
		return fmt.Errorf("accounts: write mail: %w", err)
	}
	if d.Log != nil {
		d.Log.Info("mail written to a file (no SMTP or Resend configured)", "to", m.To, "subject", m.Subject, "path", path)
	}
	return nil
}

// message is m as an RFC 5322 message in UTF-8 text.
func message(from string, m Mail) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		from, m.To, mime.QEncoding.Encode("utf-8", m.Subject), time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(m.Text, "\n", "\r\n"))
	return []byte(b.String())
}

// SMTP sends through a mail server: smtp://user:password@host:587 (STARTTLS when the server
// offers it, as net/smtp does; PLAIN authentication needs TLS or a loopback host).
type SMTP struct {
	URL  *url.URL
	From string
}

// ParseSMTP reads an smtp:// URL.
func ParseSMTP(raw, from string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return SMTP{}, fmt.Errorf("want smtp://[user:password@]host[:port], got %q", raw)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "587")
	}
	return SMTP{URL: u, From: from}, nil
}

// Send hands m to the mail server.
func (s SMTP) Send(_ context.Context, m Mail) error {
	var a smtp.Auth
	if s.URL.User != nil {
		pw, _ := s.URL.User.Password()
		a = smtp.PlainAuth("", s.URL.User.Username(), pw, s.URL.Hostname())
	}
	if err := smtp.SendMail(s.URL.Host, a, bareAddress(s.From), []string{m.To}, message(s.From, m)); err != nil {
		return fmt.Errorf("accounts: smtp: %w", err)
	}
	return nil
}

// Resend sends through the operator's Resend account.
type Resend struct {
	Client       *email.Client
	APIKey, From string
}

// Send posts m to Resend's API.
func (r Resend) Send(ctx context.Context, m Mail) error {
	if _, err := r.Client.Send(ctx, r.APIKey, email.Message{From: r.From, To: []string{m.To}, Subject: m.Subject, Text: m.Text}, ""); err != nil {
		return fmt.Errorf("accounts: resend: %w", err)
	}
	return nil
}

// bareAddress is the address of "Name <address>".
func bareAddress(from string) string {
	if i, j := strings.LastIndex(from, "<"), strings.LastIndex(from, ">"); i >= 0 && j > i {
		return from[i+1 : j]
	}
	return from
}
