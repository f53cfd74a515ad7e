package webhooks

import (
	"io"
	"time"
	"unicode"
	"unicode/utf8"
)

// Outcome is what one delivery attempt means for the delivery.
type Outcome string

const (
	OutcomeSuccess Outcome = "success" // 2xx: delivered
	OutcomeGone    Outcome = "gone"    // 410: the receiver asks for no more deliveries; disable the endpoint
	OutcomeRetry   Outcome = "retry"   // anything else, including no response: retry per NextAttempt
)

// Attempt is the result of one delivery attempt, as recorded and shown to the endpoint's
// owner.
type Attempt struct {
	Outcome Outcome
	Status  int           // the response's status code, 0 when none arrived
	Latency time.Duration // from sending the request to reading the captured body or failing
	Body    string        // the response body's first CapturedBodyBytes, as valid UTF-8 without control characters
	Error   string        // why the attempt did not succeed, "" when it did
}

// CapturedBodyBytes is how much of a response body an Attempt keeps.
const CapturedBodyBytes = 1024

// drainBytes is how much more of a response body is read and discarded, so that the
// connection can be reused, before closing it.
const drainBytes = 64 << 10

// capture reads the first CapturedBodyBytes of body and discards up to drainBytes more.
// Read errors are ignored on purpose: the status already decided the outcome, and a
// partial body is still worth showing.
func capture(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, CapturedBodyBytes))
	_, _ = io.CopyN(io.Discard, body, drainBytes)
	if len(b) == CapturedBodyBytes { // the cut may have split the last character
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return sanitize(b)
}

// sanitize makes b storable and showable: invalid UTF-8 and control characters other than
// tab, newline and carriage return become U+FFFD, and the result is at most
// CapturedBodyBytes long, cut between characters.
func sanitize(b []byte) string {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			r = utf8.RuneError
		}
		if len(out)+utf8.RuneLen(r) > CapturedBodyBytes {
			break
		}
		out = utf8.AppendRune(out, r)
		b = b[size:]
	}
	return string(out)
}
