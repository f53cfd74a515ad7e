package webhooks_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

var secret = "whsec_…" // the endpoint's signing secret

// --- begin docs/webhooks.md ---
func receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// Verify the raw bytes before parsing them. Verify accepts any v1 entry, so it works
	// with either secret during a rotation.
	err = webhooks.Verify(r.Header.Get("relm-signature"), body, secret, 5*time.Minute, time.Now())
	if err != nil {
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	// Deduplicate on r.Header.Get("relm-event-id"), then handle the event; answer 2xx quickly.
	w.WriteHeader(http.StatusNoContent)
}

// --- end docs/webhooks.md ---

// Example_receiver runs the receiver of docs/webhooks.md against a signed delivery and a
// forged one.
func Example_receiver() {
	body := `{"id":"evt_1","type":"contact.created"}`
	for _, key := range []string{secret, "whsec_forged"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/relm", strings.NewReader(body))
		r.Header.Set("relm-signature", webhooks.Sign([]byte(body), time.Now(), key))
		receive(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 204
	// 400
}

func ExampleVerify() {
	body := []byte(`{"id":"evt_1"}`)
	signedAt := time.Unix(1767225600, 0)
	header := webhooks.Sign(body, signedAt, "whsec_new", "whsec_old") // during a rotation
	fmt.Println(header[:13])
	fmt.Println(webhooks.Verify(header, body, "whsec_old", 0, signedAt.Add(time.Minute)))
	fmt.Println(webhooks.Verify(header, body, "whsec_old", 0, signedAt.Add(10*time.Minute)) != nil)
	// Output:
	// t=1767225600,
	// <nil>
	// true
}

func ExampleNextAttempt() {
	failedAt := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	middle := func() float64 { return 0.5 } // no jitter
	for attempt := 1; ; attempt++ {
		next, ok := webhooks.NextAttempt(attempt, failedAt, middle)
		if !ok {
			fmt.Printf("attempt %d was the last\n", attempt)
			break
		}
		fmt.Printf("after attempt %d: wait %s\n", attempt, next.Sub(failedAt))
	}
	// Output:
	// after attempt 1: wait 1m0s
	// after attempt 2: wait 5m0s
	// after attempt 3: wait 30m0s
	// after attempt 4: wait 2h0m0s
	// after attempt 5: wait 5h0m0s
	// after attempt 6: wait 8h0m0s
	// after attempt 7: wait 8h0m0s
	// attempt 8 was the last
}
