package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/relmcrm/relm/auth"
	"math/big"
	"net/mail"
	"strings"
	"time"

	"github.com/relmcrm/relm/store"
)

// The rules of email sign-in.
const (
	CodeTTL         = 15 * time.Minute
	CodeAttempts    = 5                // wrong guesses before a code dies
	CodesPerAddress = 5                // codes an address may ask for per CodeWindow
	CodeWindow      = 15 * time.Minute //
	SessionTTL      = 30 * 24 * time.Hour
	InvitationTTL   = 7 * 24 * time.Hour
)

// Errors a person can get while signing in; the dashboard words them.
var (
	ErrBadAddress   = errors.New("accounts: not an email address")
	ErrTooManyCodes = errors.New("accounts: too many codes asked for")
	ErrWrongCode    = errors.New("accounts: wrong code")
	ErrCodeLocked   = errors.New("accounts: code used up by wrong guesses")
	ErrCodeExpired  = errors.New("accounts: no code waiting")
)

// Service signs people in: it makes and checks codes, mails them, and opens sessions.
type Service struct {
	Store  *store.Store
	Mailer Mailer
	// PublicURL is where people reach the dashboard (links in mail point there).
	PublicURL string
	// Google, when set, offers "Sign in with Google".
	Google *Google
	key    []byte // keys the code hashes
}

// NewService makes a service whose code hashes are keyed by a key derived from the
// server secret (a stolen table of hashes cannot be brute-forced without it).
func NewService(s *store.Store, m Mailer, publicURL string, secret []byte) *Service {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("relm sign-in codes v1"))
	return &Service{Store: s, Mailer: m, PublicURL: strings.TrimRight(publicURL, "/"), key: mac.Sum(nil)}
}

// NormalizeAddress checks an email address as a person typed it and returns its bare form.
func NormalizeAddress(raw string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(raw))
	if err != nil || a.Name != "" || len(a.Address) > 254 || !strings.Contains(a.Address[strings.LastIndex(a.Address, "@")+1:], ".") {
		return "", ErrBadAddress
	}
	return a.Address, nil
}

// SendCode mails a new 6-digit code, and a link confirming it, to address.
func (s *Service) SendCode(ctx context.Context, address string) error {
	address, err := NormalizeAddress(address)
	if err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	link := rand.Text()
	err = s.Store.NewSignInCode(ctx, address, s.codeHash(address, code), auth.HashKey(link), CodeTTL, CodesPerAddress, CodeWindow)
	if errors.Is(err, store.ErrRefused) {
		return ErrTooManyCodes
	}
	if err != nil {
		return err
	}
	return s.Mailer.Send(ctx, Mail{To: address, Subject: "Your Relm sign-in code: " + code, Text: fmt.Sprintf(
		"Your code to sign in to Relm is\n\n    %s\n\nIt works once, for 15 minutes. Or open this link and confirm:\n\n    %s/signin/link?token=%s\n\n"+
			"If you did not ask to sign in, ignore this message.\n", code, s.PublicURL, link)})
}

// CheckCode signs in with the code mailed to address and returns the user.
func (s *Service) CheckCode(ctx context.Context, address, code string) (string, error) {
	address, err := NormalizeAddress(address)
	if err != nil {
		return "", err
	}
	code = strings.TrimSpace(code)
	outcome, user, err := s.Store.UseSignInCode(ctx, address, s.codeHash(address, code), CodeAttempts)
	if err != nil {
		return "", err
	}
	switch outcome {
	case store.CodeOK:
		return user, nil
	case store.CodeWrong:
		return "", ErrWrongCode
	case store.CodeLocked:
		return "", ErrCodeLocked
	}
	return "", ErrCodeExpired
}

// LinkAddress is the address a sign-in link signs in; store.ErrNotFound when it is used or expired.
func (s *Service) LinkAddress(ctx context.Context, token string) (string, error) {
	return s.Store.SignInLinkAddress(ctx, auth.HashKey(token))
}

// UseLink signs in with a sign-in link and returns the user; store.ErrNotFound when it is
// used or expired.
func (s *Service) UseLink(ctx context.Context, token string) (string, error) {
	return s.Store.UseSignInLink(ctx, auth.HashKey(token))
}

// NewSession opens a session for user and returns its token, the cookie's value.
func (s *Service) NewSession(ctx context.Context, user, agent string) (string, error) {
	token := rand.Text() + rand.Text()
	return token, s.Store.NewSession(ctx, auth.HashKey(token), user, agent, SessionTTL)
}

// codeHash is how a code for address is stored.
func (s *Service) codeHash(address, code string) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(strings.ToLower(address) + "\x00" + code))
	return mac.Sum(nil)
}

// NewToken is a random token for a link.
func NewToken() string { return rand.Text() }
