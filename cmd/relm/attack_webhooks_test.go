package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/pgtest"
)

// eventSink is a webhook receiver counting deliveries by event id.
type eventSink struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func newEventSink(t *testing.T, delay time.Duration) *eventSink {
	s := &eventSink{got: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(delay)
		s.mu.Lock()
		s.got[r.Header.Get("relm-event-id")]++
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *eventSink) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got))
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

// waitFor waits until every event in ids has arrived, or fails after limit.
func (s *eventSink) waitFor(t *testing.T, ids []string, limit time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := s.counts()
		missing := 0
		for _, id := range ids {
			if got[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never arrived in %v", missing, len(ids), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createContacts makes n contacts through tg, named from tag.
func createContacts(t *testing.T, tg *target, key, tag string, n int) {
	t.Helper()
	c := client("")
	for i := range n {
		if r := tg.send(c, "POST", "/v1/contacts", key, `{"email":"`+tag+strconv.Itoa(i)+`@example.com"}`); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
}

// eventIDs lists the ids of the tenant's events of type typ.
func eventIDs(t *testing.T, tg *target, key, typ string) []string {
	t.Helper()
	var ids []string
	c := client("")
	cursor := ""
	for {
		r := tg.send(c, "GET", "/v1/events?limit=200&type="+typ+"&cursor="+cursor, key, "")
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			HasMore    bool   `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatalf("events: %d %s", r.Status, r.Body)
		}
		for _, d := range page.Data {
			ids = append(ids, d.ID)
		}
		if !page.HasMore {
			return ids
		}
		cursor = page.NextCursor
	}
}

// TestAttackWebhooksSurviveKill: SIGKILL a server while it delivers, start it again on the
// same database: every event committed before and after the kill arrives (at least once).
func TestAttackWebhooksSurviveKill(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	sink := newEventSink(t, 300*time.Millisecond)
	tg := startTargetOn(t, db, "--webhook-rescue-after", "1s")
	key := tg.key("acme", auth.Test)
	if r := tg.send(client(""), "POST", "/v1/webhooks", key, `{"url":"`+sink.URL+`/hook","events":["contact.created"]}`); r.Status != 201 {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	createContacts(t, tg, key, "before", 30)
	for len(sink.counts()) < 3 { // deliveries are under way
		time.Sleep(20 * time.Millisecond)
	}
	if err := tg.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-tg.exited
	delivered := len(sink.counts())

	start := time.Now()
	tg = startTargetOn(t, db, "--webhook-rescue-after", "1s")
	createContacts(t, tg, key, "after", 10)
	ids := eventIDs(t, tg, key, "contact.created")
	if len(ids) != 40 {
		t.Fatalf("%d contact.created events, want 40", len(ids))
	}
	got := sink.waitFor(t, ids, 150*time.Second)
	repeats := 0
	for _, id := range ids {
		repeats += got[id] - 1
	}
	t.Logf("%d of 30 delivered before the kill; all 40 delivered %v after the restart, %d delivered twice (at least once)",
		delivered, time.Since(start).Round(time.Second), repeats)
}

// TestAttackWebhooksTwoProcesses: two servers on one database deliver each event once.
func TestAttackWebhooksTwoProcesses(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	sink := newEventSink(t, 0)
	a := startTargetOn(t, db)
	b := startTargetOn(t, db)
	key := a.key("acme", auth.Test)
	if r := a.send(client(""), "POST", "/v1/webhooks", key, `{"url":"`+sink.URL+`/hook","events":["*"]}`); r.Status != 201 {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	for i := range 20 {
		tg := a
		if i%2 == 1 {
			tg = b
		}
		createContacts(t, tg, key, "p"+strconv.Itoa(i)+"-", 2)
	}
	ids := eventIDs(t, a, key, "contact.created")
	got := sink.waitFor(t, ids, 60*time.Second)
	time.Sleep(time.Second) // anything sent twice would have arrived by now
	got = sink.counts()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times by two processes, want once", id, got[id])
		}
	}
}

// TestAttackAutomationsSurviveKill: SIGKILL a server while it runs automations, start it
// again mid-run: every event's run happens exactly once (one activity per contact created).
func TestAttackAutomationsSurviveKill(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	tg := startTargetOn(t, db, "--webhook-rescue-after", "1s")
	key := tg.key("acme", auth.Test)
	c := client("")
	if r := tg.send(c, "POST", "/v1/automations", key, `{"name":"Note each contact","trigger_event":"contact.created",`+
		`"actions":[{"type":"create_activity","activity_type":"note","subject":"Welcome"}]}`); r.Status != 201 {
		t.Fatalf("create automation: %d %s", r.Status, r.Body)
	}
	// 300 events in one batch, and the kill right after it commits: runs are under way.
	rows := make([]string, 300)
	for i := range rows {
		rows[i] = `{"email":"batch` + strconv.Itoa(i) + `@example.com"}`
	}
	if r := tg.send(c, "POST", "/v1/contacts/batch", key, `{"contacts":[`+strings.Join(rows, ",")+`]}`); r.Status != 200 {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	if err := tg.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-tg.exited
	tg = startTargetOn(t, db, "--webhook-rescue-after", "1s")
	createContacts(t, tg, key, "after", 10)
	deadline := time.Now().Add(150 * time.Second)
	for {
		per := map[string]int{}
		for cursor := ""; ; {
			r := tg.send(c, "GET", "/v1/activities?limit=200&cursor="+cursor, key, "")
			var page struct {
				Data []struct {
					ContactID string `json:"contact_id"`
				} `json:"data"`
				HasMore    bool   `json:"has_more"`
				NextCursor string `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatalf("activities: %s", r.Body)
			}
			for _, a := range page.Data {
				per[a.ContactID]++
			}
			if !page.HasMore {
				break
			}
			cursor = page.NextCursor
		}
		for id, n := range per {
			if n > 1 {
				t.Fatalf("contact %s got %d activities from one run", id, n)
			}
		}
		if len(per) == 310 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 310 contacts got their activity", len(per))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
