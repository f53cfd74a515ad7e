package metering

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tenantKeys opens a fresh database with a live and a test key of one workspace.
func tenantKeys(t *testing.T) (*store.Store, auth.Caller, auth.Caller) {
	t.Helper()
	ctx := context.Background()
	s, admin, _ := pgtest.Open(t)
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	callers := make([]auth.Caller, 2)
	for i, mode := range []auth.Mode{auth.Live, auth.Test} {
		id, _, err := admin.CreateAPIKey(ctx, ws.ID, mode)
		if err != nil {
			t.Fatal(err)
		}
		callers[i] = auth.Caller{WorkspaceID: ws.ID, Mode: mode, KeyID: id}
	}
	return s, callers[0], callers[1]
}

// newMeter is a meter that reconciles only when told (Sync, Close).
func newMeter(t *testing.T, s *store.Store, l Limits) *Meter {
	t.Helper()
	m := New(s, l, time.Hour, quiet)
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func admit(t *testing.T, m *Meter, c auth.Caller, quota int) Decision {
	t.Helper()
	d, err := m.Admit(context.Background(), c, 1, quota)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAdmitRefusesWithoutCounting(t *testing.T) {
	t.Parallel()
	s, live, test := tenantKeys(t)
	m := newMeter(t, s, Limits{RateLimit: 3, WorkspaceRateLimit: 100, RateWindow: time.Hour, QuotaFree: 100, QuotaTeam: 100})
	for i := range 3 {
		if d := admit(t, m, live, 1); d.Refusal != Allowed || d.Key.Count != int64(i+1) || d.Used != int64(i+1) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	for range 2 {
		if d := admit(t, m, live, 1); d.Refusal != RateLimited || d.Key.Count != 3 || d.Used != 3 {
			t.Fatalf("over the limit: %+v", d)
		}
	}
	if d := admit(t, m, test, 1); d.Refusal != Allowed || d.Used != 0 || d.Key.Count != 1 {
		t.Fatalf("test mode: %+v", d)
	}
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w, err := s.PeekRateWindow(context.Background(), live); err != nil || w.Count != 3 {
		t.Fatalf("stored window %+v (%v), want 3 requests", w, err)
	}
}

// TestProcessesShareCounts: two meters on one database (two server processes) each decide
// alone, and after reconciling each counts the other's requests. Between reconciliations
// together they admit at most what each may admit alone (the documented bound).
func TestProcessesShareCounts(t *testing.T) {
	t.Parallel()
	s, live, _ := tenantKeys(t)
	l := Limits{RateLimit: 10, WorkspaceRateLimit: 100, RateWindow: time.Hour, QuotaFree: 1000, QuotaTeam: 1000}
	a, b := newMeter(t, s, l), newMeter(t, s, l)
	for range 4 {
		admit(t, a, live, 1)
	}
	sync := func() {
		for _, m := range []*Meter{a, b, a} { // each reads back what the other wrote
			if err := m.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	sync()
	if d := admit(t, b, live, 1); d.Key.Count != 5 || d.Used != 5 {
		t.Fatalf("the second process does not see the first's requests: %+v", d)
	}
	sync()
	// Without reconciling, each admits up to the limit from what it last saw.
	allowed := 0
	for range 20 {
		for _, m := range []*Meter{a, b} {
			if admit(t, m, live, 1).Refusal == Allowed {
				allowed++
			}
		}
	}
	if allowed != 2*(10-5) {
		t.Fatalf("between reconciliations %d were admitted, want %d (each process: limit - shared count)", allowed, 2*(10-5))
	}
	sync()
	for _, m := range []*Meter{a, b} {
		if d := admit(t, m, live, 1); d.Refusal != RateLimited || d.Key.Count != 15 {
			t.Fatalf("after reconciling: %+v", d)
		}
	}
}

// TestRestartKeepsQuota: a new process reads the month's usage before its first decision,
// so restarting grants no fresh quota; Close writes what was not yet reconciled.
func TestRestartKeepsQuota(t *testing.T) {
	t.Parallel()
	s, live, _ := tenantKeys(t)
	l := Limits{RateLimit: 100, WorkspaceRateLimit: 100, RateWindow: time.Minute, QuotaFree: 5, QuotaTeam: 50}
	first := New(s, l, time.Hour, quiet)
	for range 5 {
		admit(t, first, live, 1)
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := newMeter(t, s, l)
	if d := admit(t, second, live, 1); d.Refusal != QuotaExceeded || d.Used != 5 || d.Plan != "free" {
		t.Fatalf("after a restart: %+v", d)
	}
}

// TestQuotaPeriodRollKeepsCounts: requests admitted in a month whose end passes before
// they are reconciled still count toward that month.
func TestQuotaPeriodRollKeepsCounts(t *testing.T) {
	t.Parallel()
	s, live, _ := tenantKeys(t)
	m := newMeter(t, s, Limits{RateLimit: 100, WorkspaceRateLimit: 100, RateWindow: time.Minute, QuotaFree: 50, QuotaTeam: 50})
	var mu sync.Mutex
	now := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	m.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for range 3 {
		admit(t, m, live, 1)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute) // February
	mu.Unlock()
	if d := admit(t, m, live, 1); d.Used != 1 || !d.PeriodStart.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the new month: %+v", d)
	}
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := s.SyncMeters(context.Background(), []store.MeterCounts{{Tenant: live,
		Periods: []store.PeriodCount{{Period: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, {Period: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if jan, feb := got[0].Periods[time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)], got[0].Periods[time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)]; jan != 3 || feb != 1 {
		t.Fatalf("stored usage: January %d, February %d; want 3 and 1", jan, feb)
	}
}

// TestConcurrentFirstRequests: many first requests of a key at once read the shared counts
// once, and none is admitted past the limit.
func TestConcurrentFirstRequests(t *testing.T) {
	t.Parallel()
	s, live, _ := tenantKeys(t)
	m := newMeter(t, s, Limits{RateLimit: 25, WorkspaceRateLimit: 1000, RateWindow: time.Hour, QuotaFree: 1000, QuotaTeam: 1000})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 100 {
		wg.Go(func() {
			d, err := m.Admit(context.Background(), live, 1, 1)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Refusal == Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 25 {
		t.Fatalf("%d admitted, want 25", allowed)
	}
}

func TestLogsDropWhenFullAndFlushOnClose(t *testing.T) {
	t.Parallel()
	s, live, _ := tenantKeys(t)
	l := NewLogs(s, 5, time.Hour, quiet)
	for i := range 8 {
		l.Add(live, store.RequestLog{RequestID: "req_" + string(rune('a'+i)), Surface: "rest", Status: 200, KeyID: live.KeyID, CreatedAt: time.Now()})
	}
	if st := l.Stats(); st.Waiting != 5 || st.Dropped != 3 {
		t.Fatalf("stats %+v, want 5 waiting and 3 dropped", st)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Written != 5 || st.Waiting != 0 {
		t.Fatalf("after close: %+v", st)
	}
	var n int
	err := s.InTx(context.Background(), live, func(tx *store.Tx) error {
		logs, err := store.List(context.Background(), tx, store.RequestLogs, store.ListParams{Limit: 100})
		n = len(logs.Items)
		return err
	})
	if err != nil || n != 5 {
		t.Fatalf("%d logs stored (%v), want 5", n, err)
	}
}
