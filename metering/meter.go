// Package metering decides rate limits and quotas in process and writes request logs in
// batches, so that a request costs no database write of its own. Every process counts the
// requests it admits locally and reconciles with the rows all processes share every
// SyncEvery (one round trip for all tenants); see docs/scaling.md for the bound this puts on
// over-admission when several processes serve one database.
package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// Limits are the rate limits and monthly quotas.
type Limits struct {
	RateLimit          int           // requests per API key per window
	WorkspaceRateLimit int           // requests per workspace and mode per window, its keys together
	RateWindow         time.Duration // length of the fixed windows, whole seconds
	QuotaFree          int64         // live requests per workspace per calendar month (UTC), free plan
	QuotaTeam          int64         // the same on the team plan
}

// DefaultSyncEvery is how often a process adds its counts to the shared ones and reads the
// others' back.
const DefaultSyncEvery = 100 * time.Millisecond

// Refusal says whether a request may run, and if not, why.
type Refusal int

const (
	Allowed              Refusal = iota
	RateLimited                  // the key's window is full
	WorkspaceRateLimited         // the window the workspace's keys share (per mode) is full
	QuotaExceeded                // the workspace used its monthly live quota
)

// Decision is what admitting one request found: the key's and the workspace's windows and
// the workspace's monthly usage, counting this request when it is allowed.
type Decision struct {
	Refusal     Refusal
	Now         time.Time
	Key         store.RateWindow // the key's window
	Workspace   store.RateWindow // the window the workspace's keys share, in the key's mode
	Plan        string
	Quota       int64     // the plan's monthly live quota
	PeriodStart time.Time // the current quota period: this calendar month, UTC
	Used        int64     // live requests this period; 0 in test mode, which is not metered
}

// Meter admits requests against the limits. Create it with New and stop it with Close,
// which writes what is still unreconciled.
type Meter struct {
	store     *store.Store
	limits    Limits
	log       *slog.Logger
	syncEvery time.Duration
	now       func() time.Time

	mu      sync.Mutex
	tenants map[tenantKey]*tenant
	syncMu  sync.Mutex // one reconciliation at a time: each moves pending counts to flushing

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
	errors uint64 // failed reconciliations
}

type tenantKey struct {
	workspace string
	mode      auth.Mode
}

// tenant is one workspace's counts in one mode, as this process knows them.
type tenant struct {
	plan     string
	keys     map[string]*counter
	ws       counter
	usage    counter             // live mode: the current quota period
	leftover map[time.Time]int64 // live mode: counts of ended periods not yet reconciled
	lastUsed time.Time
	lastSync time.Time
	reading  map[string]chan struct{} // keys being read from the shared rows for the first time
}

// counter is one shared count: the window or period it is for, the total as of the last
// reconciliation, what is being reconciled now, and what was admitted since.
type counter struct {
	start    time.Time
	shared   int64
	flushing int64
	pending  int64
}

func (c *counter) total() int64 { return c.shared + c.flushing + c.pending }

// roll moves c to the window or period starting at start, forgetting the old one's counts.
func (c *counter) roll(start time.Time) {
	if start.After(c.start) {
		*c = counter{start: start}
	}
}

// New starts a meter; syncEvery 0 means DefaultSyncEvery.
func New(s *store.Store, l Limits, syncEvery time.Duration, log *slog.Logger) *Meter {
	if syncEvery <= 0 {
		syncEvery = DefaultSyncEvery
	}
	m := &Meter{store: s, limits: l, log: log, syncEvery: syncEvery, now: time.Now,
		tenants: map[tenantKey]*tenant{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// Admit counts a request of c toward its key's and its workspace's rate limits (requests)
// and, in live mode, toward the monthly quota (quota, 0 for requests that do not count),
// or refuses it without counting anything. The first request of a key in this process
// reads the shared counts; after that, no request waits for the database.
func (m *Meter) Admit(ctx context.Context, c auth.Caller, requests, quota int) (Decision, error) {
	t, err := m.tenant(ctx, c)
	if err != nil {
		return Decision{}, err
	}
	shared := t // whose workspace window the request counts toward: a sandbox's parent's
	if ws, mode := c.RateTenant(); ws != c.WorkspaceID {
		if shared, err = m.loaded(ctx, tenantKey{ws, mode}); err != nil {
			return Decision{}, err
		}
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rollLocked(t, c.Mode, now)
	if shared != t {
		m.rollLocked(shared, auth.Test, now)
		shared.lastUsed = now
	}
	key := t.keys[c.KeyID]
	d := Decision{Now: now, Plan: t.plan, Quota: m.quota(t.plan), PeriodStart: t.usage.start,
		Key: store.RateWindow{Start: key.start, Count: key.total()}, Workspace: store.RateWindow{Start: shared.ws.start, Count: shared.ws.total()}}
	if c.Mode == auth.Live {
		d.Used = t.usage.total()
	}
	quotaApplies := c.Mode == auth.Live && quota > 0
	n := int64(requests)
	switch {
	case key.total()+n > int64(m.limits.RateLimit):
		d.Refusal = RateLimited
	case shared.ws.total()+n > int64(m.limits.WorkspaceRateLimit):
		d.Refusal = WorkspaceRateLimited
	case quotaApplies && t.usage.total()+int64(quota) > d.Quota:
		d.Refusal = QuotaExceeded
	default:
		key.pending += n
		shared.ws.pending += n
		d.Key.Count += n
		d.Workspace.Count += n
		if quotaApplies {
			t.usage.pending += int64(quota)
			d.Used += int64(quota)
		}
	}
	t.lastUsed = now
	return d, nil
}

// Peek returns the key's window without counting anything (nil when this process has not
// seen the key yet).
func (m *Meter) Peek(c auth.Caller) (store.RateWindow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[tenantKey{c.WorkspaceID, c.Mode}]
	if !ok || t.keys[c.KeyID] == nil {
		return store.RateWindow{}, false
	}
	m.rollLocked(t, c.Mode, m.now())
	k := t.keys[c.KeyID]
	return store.RateWindow{Start: k.start, Count: k.total()}, true
}

func (m *Meter) quota(plan string) int64 {
	if plan == "team" {
		return m.limits.QuotaTeam
	}
	return m.limits.QuotaFree
}

// window is the start of the rate window now falls in.
func (m *Meter) window(now time.Time) time.Time {
	secs := int64(m.limits.RateWindow / time.Second)
	return time.Unix(now.Unix()-now.Unix()%secs, 0).UTC()
}

// period is the start of the quota period now falls in: its calendar month, UTC.
func period(now time.Time) time.Time {
	y, mo, _ := now.UTC().Date()
	return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
}

// rollLocked moves t's counters to the current window and period; counts of an ended
// quota period are kept until reconciled, counts of an ended rate window are dropped.
func (m *Meter) rollLocked(t *tenant, mode auth.Mode, now time.Time) {
	win := m.window(now)
	for _, k := range t.keys {
		k.roll(win)
	}
	t.ws.roll(win)
	if p := period(now); mode == auth.Live && p.After(t.usage.start) {
		// Counts being reconciled (flushing) are on their way to the old period's row.
		if t.usage.pending > 0 && !t.usage.start.IsZero() {
			t.leftover[t.usage.start] += t.usage.pending
		}
		t.usage.roll(p)
	}
}

// tenant returns c's tenant with c's key read from the shared rows, reading them now if
// this is the first request of the key in this process. Concurrent first requests of a key
// wait for one read.
func (m *Meter) tenant(ctx context.Context, c auth.Caller) (*tenant, error) {
	k := tenantKey{c.WorkspaceID, c.Mode}
	for {
		m.mu.Lock()
		t := m.tenantLocked(k)
		if t.keys[c.KeyID] != nil {
			m.mu.Unlock()
			return t, nil
		}
		wait, reading := t.reading[c.KeyID]
		if !reading {
			wait = make(chan struct{})
			t.reading[c.KeyID] = wait
		}
		m.mu.Unlock()
		if reading {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		err := m.sync(ctx, []tenantKey{k}, c.KeyID)
		m.mu.Lock()
		delete(t.reading, c.KeyID)
		gone := m.tenants[k] != t
		m.mu.Unlock()
		close(wait)
		if err != nil {
			return nil, err
		}
		if gone {
			return nil, fmt.Errorf("metering: workspace %s: %w", c.WorkspaceID, store.ErrNotFound)
		}
	}
}

func newTenant(now time.Time) *tenant {
	return &tenant{keys: map[string]*counter{}, leftover: map[time.Time]int64{}, reading: map[string]chan struct{}{}, lastUsed: now}
}

// tenantLocked returns the tenant k, new if this process does not know it.
func (m *Meter) tenantLocked(k tenantKey) *tenant {
	t := m.tenants[k]
	if t == nil {
		t = newTenant(m.now())
		m.tenants[k] = t
	}
	return t
}

// loaded returns the tenant k, reading its shared counts first if this process has not
// reconciled it yet: the tenant whose workspace window a sandbox's requests count toward.
func (m *Meter) loaded(ctx context.Context, k tenantKey) (*tenant, error) {
	m.mu.Lock()
	t := m.tenantLocked(k)
	synced := !t.lastSync.IsZero()
	m.mu.Unlock()
	if synced {
		return t, nil
	}
	if err := m.sync(ctx, []tenantKey{k}, ""); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tenants[k] != t {
		return nil, fmt.Errorf("metering: workspace %s: %w", k.workspace, store.ErrNotFound)
	}
	return t, nil
}

// run reconciles every SyncEvery until Close.
func (m *Meter) run() {
	defer close(m.done)
	tick := time.NewTicker(m.syncEvery)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		case <-m.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := m.syncDue(ctx, false); err != nil {
			m.log.Error("reconcile rate limits and quotas", "err", err)
		}
		cancel()
	}
}

// Sync adds what this process admitted to the shared counts and reads every process's
// totals back, for every tenant it knows, now.
func (m *Meter) Sync(ctx context.Context) error { return m.syncDue(ctx, true) }

// syncDue reconciles the tenants used lately: those with counts to add and, at most once a
// second (or always, with all), those without; idle tenants are forgotten. A tenant with
// nothing to add is only read.
func (m *Meter) syncDue(ctx context.Context, all bool) error {
	now := m.now()
	idleAfter := 2 * max(m.limits.RateWindow, time.Minute)
	var due []tenantKey
	m.mu.Lock()
	for k, t := range m.tenants {
		pending := t.ws.pending > 0 || t.usage.pending > 0 || len(t.leftover) > 0
		if !pending && now.Sub(t.lastUsed) > idleAfter {
			delete(m.tenants, k)
			continue
		}
		if all || pending || now.Sub(t.lastSync) >= time.Second {
			due = append(due, k)
		}
	}
	m.mu.Unlock()
	return m.sync(ctx, due, "")
}

// sync reconciles the tenants ks; newKey, when set, is a key of the first one read for
// the first time.
func (m *Meter) sync(ctx context.Context, ks []tenantKey, newKey string) error {
	if len(ks) == 0 {
		return nil
	}
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	now := m.now()
	win, per := m.window(now), period(now)
	counts := make([]store.MeterCounts, len(ks))
	m.mu.Lock()
	for i, k := range ks {
		t := m.tenants[k]
		if t == nil { // forgotten meanwhile
			t = newTenant(time.Time{})
		}
		m.rollLocked(t, k.mode, now)
		c := store.MeterCounts{Tenant: auth.Caller{WorkspaceID: k.workspace, Mode: k.mode}}
		for id, kc := range t.keys {
			kc.flushing, kc.pending = kc.flushing+kc.pending, 0
			c.Keys = append(c.Keys, store.KeyCount{KeyID: id, WindowCount: store.WindowCount{Start: kc.start, Add: kc.flushing}})
		}
		if i == 0 && newKey != "" && t.keys[newKey] == nil {
			c.Keys = append(c.Keys, store.KeyCount{KeyID: newKey, WindowCount: store.WindowCount{Start: win}})
		}
		t.ws.roll(win)
		t.ws.flushing, t.ws.pending = t.ws.flushing+t.ws.pending, 0
		c.Workspace = store.WindowCount{Start: t.ws.start, Add: t.ws.flushing}
		if k.mode == auth.Live {
			t.usage.roll(per)
			t.usage.flushing, t.usage.pending = t.usage.flushing+t.usage.pending, 0
			c.Periods = append(c.Periods, store.PeriodCount{Period: t.usage.start, Add: t.usage.flushing})
			for p, n := range t.leftover {
				c.Periods = append(c.Periods, store.PeriodCount{Period: p, Add: n})
			}
		}
		counts[i] = c
	}
	m.mu.Unlock()

	totals, err := m.store.SyncMeters(ctx, counts)

	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range ks {
		t := m.tenants[k]
		if t == nil {
			continue
		}
		if err != nil { // counted again next time
			for _, kc := range t.keys {
				kc.pending, kc.flushing = kc.pending+kc.flushing, 0
			}
			t.ws.pending, t.ws.flushing = t.ws.pending+t.ws.flushing, 0
			if k.mode == auth.Live {
				if sent := counts[i].Periods[0]; t.usage.start.Equal(sent.Period) {
					t.usage.pending, t.usage.flushing = t.usage.pending+t.usage.flushing, 0
				} else { // the period ended meanwhile: its counts wait with the other ended ones
					t.leftover[sent.Period] += sent.Add
				}
			}
			continue
		}
		got := totals[i]
		if got.Gone {
			delete(m.tenants, k)
			continue
		}
		t.plan, t.lastSync = got.Plan, now
		for _, kc := range counts[i].Keys {
			c := t.keys[kc.KeyID]
			if c == nil {
				c = &counter{start: kc.Start}
				t.keys[kc.KeyID] = c
			}
			settle(c, kc.Start, got.Keys[kc.KeyID])
		}
		settle(&t.ws, counts[i].Workspace.Start, got.Workspace)
		if k.mode == auth.Live {
			if t.usage.start.Equal(per) {
				t.usage.shared, t.usage.flushing = got.Periods[per], 0
			}
			for _, p := range counts[i].Periods[1:] {
				if t.leftover[p.Period] -= p.Add; t.leftover[p.Period] <= 0 {
					delete(t.leftover, p.Period)
				}
			}
		}
	}
	if err != nil {
		m.errors++
		return fmt.Errorf("metering: %w", err)
	}
	return nil
}

// settle takes the shared row read back for the window started: c's counts for it are now
// in the shared total. A stored row for an older window means nobody counted in this one.
func settle(c *counter, start time.Time, row store.RateWindow) {
	if !c.start.Equal(start) { // the window rolled while reconciling: its counts are gone
		return
	}
	c.flushing = 0
	c.shared = 0
	if row.Start.Equal(start) {
		c.shared = row.Count
	}
}

// Errors is how many reconciliations failed since the meter started.
func (m *Meter) Errors() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errors
}

// Close stops reconciling and writes what is left, within ctx.
func (m *Meter) Close(ctx context.Context) error {
	var err error
	m.closed.Do(func() {
		close(m.stop)
		<-m.done
		err = m.syncDue(ctx, false)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	})
	return err
}
