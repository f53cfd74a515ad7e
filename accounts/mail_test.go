package accounts_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/email/resendtest"
)

var mail = accounts.Mail{To: "ada@example.com", Subject: "Your Relm sign-in code: 123456", Text: "Your code is\n\n    123456\n"}

// TestMailDir writes each message as an RFC 5322 file.
func TestMailDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	if err := (accounts.MailDir{Dir: dir, From: "Relm <relm@localhost>"}).Send(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"From: Relm <relm@localhost>\r\n", "To: ada@example.com\r\n", "Subject: Your Relm sign-in code: 123456\r\n",
		"Content-Type: text/plain; charset=utf-8\r\n", "\r\n\r\nYour code is\r\n\r\n    123456\r\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the file lacks %q:\n%s", want, b)
		}
	}
}

// TestResendMailer sends through the operator's Resend account (the fake speaks Resend's API).
func TestResendMailer(t *testing.T) {
	fake := resendtest.NewServer(t)
	fake.AddKey("re_operator", true)
	fake.AddDomain("re_operator", "relm.example", true)
	m := accounts.Resend{Client: email.NewClient(fake.URL, "relm-test", nil), APIKey: "re_operator", From: "Relm <login@relm.example>"}
	if err := m.Send(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].To[0] != "ada@example.com" || sent[0].Subject != mail.Subject || sent[0].Text != mail.Text ||
		sent[0].From != "Relm <login@relm.example>" {
		t.Fatalf("sent: %+v", sent)
	}
	// A sender on a domain the account has not verified is refused, as Resend does.
	bad := accounts.Resend{Client: m.Client, APIKey: "re_operator", From: "relm@unverified.example"}
	if err := bad.Send(context.Background(), mail); err == nil {
		t.Fatal("a send from an unverified domain succeeded")
	}
}

// TestSMTPMailer hands the message to a mail server speaking SMTP (a minimal one here).
func TestSMTPMailer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go serveSMTP(ln, got)
	m, err := accounts.ParseSMTP("smtp://"+ln.Addr().String(), "Relm <relm@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	session := <-got
	for _, want := range []string{"MAIL FROM:<relm@example.com>", "RCPT TO:<ada@example.com>", "Subject: Your Relm sign-in code: 123456", "    123456"} {
		if !strings.Contains(session, want) {
			t.Errorf("the SMTP session lacks %q:\n%s", want, session)
		}
	}
	for _, bad := range []string{"http://host", "smtp://", "not a url"} {
		if _, err := accounts.ParseSMTP(bad, ""); err == nil {
			t.Errorf("ParseSMTP(%q) accepted it", bad)
		}
	}
}

// serveSMTP answers one SMTP session and sends what the client said on got.
func serveSMTP(ln net.Listener, got chan<- string) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	var log strings.Builder
	reply := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
	reply("220 fake ESMTP")
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			got <- log.String()
			return
		}
		log.WriteString(line)
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case inData && cmd == ".":
			inData = false
			reply("250 queued")
		case inData:
		case strings.HasPrefix(cmd, "EHLO"):
			reply("250 fake")
		case cmd == "DATA":
			inData = true
			reply("354 go on")
		case cmd == "QUIT":
			reply("221 bye")
			got <- log.String()
			return
		default:
			reply("250 ok")
		}
	}
}
