package email_test

import (
	"errors"
	"testing"

	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/email/resendtest"
)

// The keys of the account that setup makes: one full-access key and one sending-only key
// of the same team.
const (
	fullKey = "re_Full9Qx7Lz2Vb4Nc6Md8Kf0"
	sendKey = "re_Send3Hw5Jy7Tp9Rs1Ue3Gi5"
)

// fixture is a fake Resend and a client pointed at it.
type fixture struct {
	srv    *resendtest.Server
	client *email.Client
}

func setup(t *testing.T) fixture {
	t.Helper()
	srv := resendtest.NewServer(t)
	srv.AddKey(fullKey, true)
	srv.AddTeamKey(fullKey, sendKey, false)
	return fixture{srv: srv, client: email.NewClient(srv.URL, "relm-test/1.0", srv.Client())}
}

// asError returns err as an *email.Error, failing the test if it is not one.
func asError(t *testing.T, err error) *email.Error {
	t.Helper()
	var e *email.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *email.Error", err, err)
	}
	return e
}

// wantKind checks that err is an *email.Error of kind want and returns it.
func wantKind(t *testing.T, err error, want email.Kind) *email.Error {
	t.Helper()
	e := asError(t, err)
	if got := e.Kind(); got != want {
		t.Fatalf("kind = %v, want %v (error: %v)", got, want, err)
	}
	return e
}
