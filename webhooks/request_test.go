package webhooks_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/relmcrm/relm/webhooks"
)

func TestNewRequest(t *testing.T) {
	t.Parallel()
	m := webhooks.Message{
		URL:       "https://hooks.example.com/relm?src=1",
		EventID:   "evt_123",
		EventType: "contact.created",
		Body:      []byte(vecBody),
		Secrets:   []string{vecSecret, vecOld},
	}
	req, err := webhooks.NewRequest(t.Context(), m, "1.2.3", vecTime)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.String() != m.URL {
		t.Fatalf("request is %s %s, want POST %s", req.Method, req.URL, m.URL)
	}
	want := map[string]string{
		"relm-signature":  "t=1767225600,v1=" + vecV1 + ",v1=" + vecV1Old,
		"relm-event-id":   "evt_123",
		"relm-event-type": "contact.created",
		"content-type":    "application/json",
		"user-agent":      "Relm-Webhooks/1.2.3",
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if len(req.Header) != len(want) {
		t.Errorf("request has headers %v, want exactly %d", req.Header, len(want))
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != vecBody || req.ContentLength != int64(len(vecBody)) {
		t.Fatalf("body %q (length %d), want %q", body, req.ContentLength, vecBody)
	}
	if req.GetBody == nil {
		t.Fatal("request body cannot be replayed (GetBody is nil)")
	}
}

func TestNewRequestRefuses(t *testing.T) {
	t.Parallel()
	ok := webhooks.Message{URL: "https://hooks.example.com", Body: []byte("{}"), Secrets: []string{vecSecret}}
	noSecret := ok
	noSecret.Secrets = nil
	badURL := ok
	badURL.URL = "https://bad host"
	for name, m := range map[string]webhooks.Message{"no secret": noSecret, "bad url": badURL} {
		if _, err := webhooks.NewRequest(t.Context(), m, "v", vecTime); err == nil {
			t.Errorf("%s: NewRequest succeeded", name)
		}
	}
}
