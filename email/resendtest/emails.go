package resendtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
)

// idempotentSend is an accepted send remembered under its Idempotency-Key.
type idempotentSend struct {
	body string // the request body, canonical JSON
	id   string
}

// failure is an error response to write.
type failure struct {
	status        int
	name, message string
}

func (f *failure) write(w http.ResponseWriter) { writeError(w, f.status, f.name, f.message) }

// sendEmail is POST /emails: idempotency first, then validation, the sender's domain, the
// quota, and the send.
func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request, k *apiKey) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 40<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "validation_error", "The request body could not be read.")
		return
	}
	_, hasIdem := r.Header["Idempotency-Key"]
	idem := r.Header.Get("Idempotency-Key")
	if hasIdem && (len(idem) < 1 || len(idem) > 256) {
		writeError(w, http.StatusBadRequest, "invalid_idempotency_key", "Idempotency keys, if present, must have between 1 and 256 characters.")
		return
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		writeError(w, http.StatusBadRequest, "validation_error", "The request body is not valid JSON.")
		return
	}
	canonical, _ := json.Marshal(generic) // object keys sorted: key order does not matter

	s.mu.Lock()
	defer s.mu.Unlock()
	acct := k.account
	if prev, ok := acct.idempotent[idem]; hasIdem && ok {
		if prev.body != string(canonical) {
			writeError(w, http.StatusConflict, "invalid_idempotent_request", "This idempotency key has been used with this HTTP method and endpoint within the last 24 hours, but the request body was modified and doesn't match the original request.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": prev.id})
		return
	}
	msg, fail := decodeMessage(raw)
	if fail == nil {
		fail = s.checkSender(acct, msg)
	}
	if fail == nil && acct.dailyQuota > 0 && acct.sentToday >= acct.dailyQuota {
		fail = &failure{http.StatusTooManyRequests, "daily_quota_exceeded", "You have exceeded your daily email sending quota."}
	}
	if fail != nil {
		fail.write(w)
		return
	}

	msg.ID = newID()
	msg.APIKey = k.key
	msg.IdempotencyKey = idem
	s.sent = append(s.sent, msg)
	acct.sentToday++
	if hasIdem {
		acct.idempotent[idem] = idempotentSend{body: string(canonical), id: msg.ID}
	}
	if acct.dailyQuota > 0 {
		w.Header().Set("x-resend-daily-quota", fmt.Sprint(acct.sentToday))
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": msg.ID})
}

// decodeMessage reads and validates a send request as Resend does: from, to and subject
// required, html or text, well-formed addresses, at most 50 recipients.
func decodeMessage(raw []byte) (SentMessage, *failure) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return SentMessage{}, &failure{http.StatusUnprocessableEntity, "validation_error", "The request body must be a JSON object."}
	}
	var m SentMessage
	var fail *failure
	str := func(name string, dst *string) {
		if v, ok := fields[name]; ok && fail == nil && string(v) != "null" {
			if json.Unmarshal(v, dst) != nil {
				fail = &failure{http.StatusUnprocessableEntity, "validation_error", fmt.Sprintf("The `%s` field must be a `string`.", name)}
			}
		}
	}
	list := func(name string, dst *[]string) {
		v, ok := fields[name]
		if !ok || fail != nil || string(v) == "null" {
			return
		}
		var one string
		if json.Unmarshal(v, &one) == nil {
			*dst = []string{one}
		} else if json.Unmarshal(v, dst) != nil {
			fail = &failure{http.StatusUnprocessableEntity, "validation_error", fmt.Sprintf("The `%s` field must be a `string` or an array of `string`.", name)}
		}
	}
	str("from", &m.From)
	list("to", &m.To)
	str("subject", &m.Subject)
	str("html", &m.HTML)
	str("text", &m.Text)
	list("reply_to", &m.ReplyTo)
	if fail != nil {
		return SentMessage{}, fail
	}

	missing := func(what string) *failure {
		return &failure{http.StatusUnprocessableEntity, "missing_required_field", "Missing " + what + " field."}
	}
	switch {
	case m.From == "":
		return SentMessage{}, missing("`from`")
	case len(m.To) == 0:
		return SentMessage{}, missing("`to`")
	case m.Subject == "":
		return SentMessage{}, missing("`subject`")
	case m.HTML == "" && m.Text == "":
		return SentMessage{}, missing("`html` or `text`")
	case len(m.To) > 50:
		return SentMessage{}, &failure{http.StatusUnprocessableEntity, "validation_error", "The `to` field must not contain more than 50 addresses."}
	}
	for _, f := range []struct {
		name  string
		addrs []string
	}{{"from", []string{m.From}}, {"to", m.To}, {"reply_to", m.ReplyTo}} {
		for _, a := range f.addrs {
			if _, err := mail.ParseAddress(a); err != nil {
				return SentMessage{}, &failure{http.StatusUnprocessableEntity, "validation_error", fmt.Sprintf("Invalid `%s` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.", f.name)}
			}
		}
	}
	return m, nil
}

// checkSender applies Resend's rule for the from address: its domain must be a verified
// domain of the account, or the shared testing domain writing only to Resend's test
// addresses. s.mu is held.
func (s *Server) checkSender(acct *account, m SentMessage) *failure {
	from := domainOf(m.From)
	if from == TestingDomain {
		for _, to := range m.To {
			if domainOf(to) != TestingDomain {
				return &failure{http.StatusForbidden, "validation_error", "You can only send testing emails to your own email address. To send emails to other recipients, please verify a domain at resend.com/domains, and change the `from` address to an email using this domain."}
			}
		}
		return nil
	}
	for _, d := range acct.domains {
		if d.name == from && d.status == "verified" {
			return nil
		}
	}
	return &failure{http.StatusForbidden, "validation_error", fmt.Sprintf("The %s domain is not verified. Please, add and verify your domain on https://resend.com/domains", from)}
}

// domainOf is the lower-cased domain of a well-formed address ("Name <a@b.c>" or "a@b.c").
func domainOf(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return ""
	}
	return strings.ToLower(a.Address[strings.LastIndexByte(a.Address, '@')+1:])
}
