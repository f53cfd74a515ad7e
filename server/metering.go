package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/metering"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

// Limits are the rate limit and monthly quotas enforced on /v1 and /mcp; a zero field
// takes its default.
type Limits struct {
	RateLimit          int           // requests per API key per window (default 600)
	WorkspaceRateLimit int           // requests per workspace and mode per window, its keys together (default 1,200)
	RateWindow         time.Duration // length of the fixed windows, whole seconds (default one minute)
	QuotaFree          int64         // live requests per workspace per calendar month (UTC), free plan (default 10,000)
	QuotaTeam          int64         // the same on the team plan (default 1,000,000)
	MaxActiveKeys      int           // unrevoked API keys per workspace and mode (default 100)
	InFlightPerKey     int           // requests one key may have running at once in this process (default 32)
	InFlightPerTenant  int           // the same for a workspace's keys together, per mode (default 64)
	AuthFailures       int           // failed authentications per client address per minute before it is throttled (default 60)
	SyncEvery          time.Duration // how often this process reconciles its counts with the shared ones (default 100 ms)
	LogBuffer          int           // request logs held in memory at most before new ones are dropped (default 10,000)
	LogFlushEvery      time.Duration // how often request logs are written (default 200 ms)
}

// The default limits.
const (
	DefaultRateLimit          = 600
	DefaultWorkspaceRateLimit = 1_200
	DefaultRateWindow         = time.Minute
	DefaultQuotaFree          = 10_000
	DefaultQuotaTeam          = 1_000_000
	DefaultMaxActiveKeys      = tools.DefaultMaxKeys
	DefaultInFlightPerKey     = 32
	DefaultInFlightPerTenant  = 64
	DefaultAuthFailures       = 60
)

func (l Limits) withDefaults() Limits {
	orDefault(&l.RateLimit, DefaultRateLimit)
	orDefault(&l.WorkspaceRateLimit, DefaultWorkspaceRateLimit)
	if l.RateWindow < time.Second {
		l.RateWindow = DefaultRateWindow
	}
	l.RateWindow = l.RateWindow.Truncate(time.Second)
	orDefault(&l.QuotaFree, DefaultQuotaFree)
	orDefault(&l.QuotaTeam, DefaultQuotaTeam)
	orDefault(&l.MaxActiveKeys, DefaultMaxActiveKeys)
	orDefault(&l.InFlightPerKey, DefaultInFlightPerKey)
	orDefault(&l.InFlightPerTenant, DefaultInFlightPerTenant)
	orDefault(&l.AuthFailures, DefaultAuthFailures)
	if l.SyncEvery <= 0 {
		l.SyncEvery = metering.DefaultSyncEvery
	}
	orDefault(&l.LogBuffer, metering.DefaultLogBuffer)
	if l.LogFlushEvery <= 0 {
		l.LogFlushEvery = metering.DefaultLogFlushEvery
	}
	return l
}

// orDefault sets *v to def unless it is positive.
func orDefault[T int | int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// meterLimits are the limits the in-process meter enforces.
func (l Limits) meterLimits() metering.Limits {
	return metering.Limits{RateLimit: l.RateLimit, WorkspaceRateLimit: l.WorkspaceRateLimit, RateWindow: l.RateWindow,
		QuotaFree: l.QuotaFree, QuotaTeam: l.QuotaTeam}
}

// meterHTTP counts every authenticated REST request against the key's rate limits and,
// in live mode, the workspace's monthly quota (MCP requests are counted where the SDK has
// parsed them: meterMCP); refuses what is over with 429; puts X-RateLimit-* on the
// response; and queues the request log. Nothing here waits for the database once a key
// has been seen (package metering).
type meterHTTP struct {
	meter      *metering.Meter
	logs       *metering.Logs
	limits     Limits
	log        *slog.Logger
	mux        *http.ServeMux
	reg        *tools.Registry
	routeTools map[string]string // mux pattern ("GET /v1/contacts/{id}") -> tool name
	next       http.Handler
}

// newMeterHTTP builds the metering middleware; its next handler is set before serving.
func newMeterHTTP(l Limits, meter *metering.Meter, logs *metering.Logs, log *slog.Logger, reg *tools.Registry, mux *http.ServeMux) *meterHTTP {
	m := &meterHTTP{meter: meter, logs: logs, limits: l, log: log, mux: mux, reg: reg, routeTools: map[string]string{}}
	for _, e := range reg.Entries() {
		m.routeTools[e.REST.Method+" "+e.REST.Path] = e.Name
		for _, a := range e.Aliases {
			m.routeTools[a.Method+" "+a.Path] = e.Name
		}
	}
	return m
}

func (m *meterHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := auth.CallerFrom(r.Context())
	if !ok || m.meter == nil { // not a metered path, or refused as unauthorized: no key to count against
		m.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	ctx, outcome := tools.WithOutcome(r.Context())
	msg, isMCP := mcpMessageFrom(ctx)
	if isMCP {
		m.serveMCP(w, r.WithContext(ctx), c, msg, outcome, start)
		return
	}
	d, err := m.meter.Admit(ctx, c, 1, 1)
	if err != nil {
		m.log.ErrorContext(ctx, "meter request", "request_id", tools.RequestID(ctx), "err", err)
		writeErr(ctx, w, tools.Unexpected(err, "Could not check the rate limit right now. Retry shortly."))
		return
	}
	m.setHeaders(w.Header(), d)
	rec := &statusRecorder{ResponseWriter: w}
	r = r.WithContext(tools.WithAllowance(ctx, m.allowance(c, d)))
	finished := false
	defer func() { // also when next panics (recoverPanics answers 500 afterwards)
		m.logs.Add(c, m.restLog(r, rec, outcome, finished, start))
	}()
	if d.Refusal != metering.Allowed { // refused: nothing counted, nothing run, but logged
		m.refuse(rec, r, d)
	} else {
		m.next.ServeHTTP(rec, r)
	}
	finished = true
}

// serveMCP passes an MCP request on with a slot where meterMCP leaves its decision, which
// becomes the X-RateLimit-* headers, and logs a tool call once it is answered.
func (m *meterHTTP) serveMCP(w http.ResponseWriter, r *http.Request, c auth.Caller, msg mcpMessage, outcome *tools.OutcomeSlot, start time.Time) {
	slot := &decisionSlot{}
	rec := &headerWriter{statusRecorder: statusRecorder{ResponseWriter: w}, before: func(h http.Header) {
		if d, ok := slot.get(); ok {
			m.setHeaders(h, d)
		} else if win, ok := m.meter.Peek(c); ok {
			m.setHeaders(h, metering.Decision{Key: win, Workspace: store.RateWindow{Start: win.Start}})
		}
	}}
	m.next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), decisionKey{}, slot)))
	if !msg.Call || msg.Method != "tools/call" {
		return
	}
	m.logs.Add(c, m.stamp(r.Context(), start, mcpCallLog(msg.Tool, outcome, rec.status)))
}

// mcpCallLog is the log of an MCP tool call of tool: the outcome its handler reported, or
// else the HTTP status that refused it (0 on stdio) or the SDK's refusal of its params.
func mcpCallLog(tool string, outcome *tools.OutcomeSlot, httpStatus int) store.RequestLog {
	l := store.RequestLog{Surface: "mcp", Tool: &tool}
	if o, ok := outcome.Get(); ok {
		l.Status = o.Status
		l.Tool = &o.Tool
		if o.Code != "" {
			l.ErrorCode = logCode(o.Code)
		}
	} else if httpStatus >= 400 { // refused before any tool was looked up
		l.Status, l.ErrorCode = httpStatus, statusCode(httpStatus)
	} else { // the SDK refused the call's params before any tool was looked up
		code := tools.CodeBadRequest
		l.Status, l.ErrorCode = tools.Codes[code], logCode(code)
	}
	name := loggableToolName(*l.Tool)
	l.Tool = &name
	return l
}

// setHeaders puts X-RateLimit-* on a response: the key's limit, or the workspace's when
// fewer requests remain under it.
func (m *meterHTTP) setHeaders(h http.Header, d metering.Decision) {
	limit, remaining, reset := m.limits.RateLimit, m.remaining(d), d.Key.Start.Add(m.limits.RateWindow)
	if ws := m.workspaceRemaining(d); ws < remaining || d.Refusal == metering.WorkspaceRateLimited {
		limit, remaining, reset = m.limits.WorkspaceRateLimit, ws, d.Workspace.Start.Add(m.limits.RateWindow)
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// remaining is what the key may still request in its window.
func (m *meterHTTP) remaining(d metering.Decision) int64 {
	return max(0, int64(m.limits.RateLimit)-d.Key.Count)
}

// workspaceRemaining is what the workspace's keys may still request together in theirs.
func (m *meterHTTP) workspaceRemaining(d metering.Decision) int64 {
	return max(0, int64(m.limits.WorkspaceRateLimit)-d.Workspace.Count)
}

// refusal is the error for a refused request: rate_limited until the window ends,
// quota_exceeded until the month does, with retry_after set.
func (m *meterHTTP) refusal(mode auth.Mode, d metering.Decision) *tools.Error {
	var e *tools.Error
	var until time.Time
	switch d.Refusal {
	case metering.QuotaExceeded:
		until = d.PeriodStart.AddDate(0, 1, 0)
		e = tools.NewError(tools.CodeQuotaExceeded, "This workspace has used the %d live requests its %s plan allows per month. "+
			"The quota renews on %s (UTC). Until then, keep working with a test key (test mode is not metered) or move the workspace to a larger plan.",
			d.Quota, d.Plan, until.Format(time.DateOnly))
	case metering.WorkspaceRateLimited:
		until = d.Workspace.Start.Add(m.limits.RateWindow)
		e = tools.NewError(tools.CodeRateLimited, "This workspace's %s keys have together made the %d requests they may make per %s. "+
			"Wait until the window resets (retry after %d seconds), then spread requests out; more keys do not raise this limit.",
			mode, m.limits.WorkspaceRateLimit, windowText(m.limits.RateWindow), retryAfter(until, d.Now))
	default:
		until = d.Key.Start.Add(m.limits.RateWindow)
		e = tools.NewError(tools.CodeRateLimited, "This API key has made the %d requests it may make per %s. "+
			"Wait until the window resets (retry after %d seconds), then spread requests out.", m.limits.RateLimit, windowText(m.limits.RateWindow), retryAfter(until, d.Now))
	}
	e.RetryAfter = retryAfter(until, d.Now)
	return e
}

// retryAfter is the whole seconds from now until until, at least one.
func retryAfter(until, now time.Time) int {
	return max(1, int(math.Ceil(until.Sub(now).Seconds())))
}

// refuse answers 429 with the refusal.
func (m *meterHTTP) refuse(w http.ResponseWriter, r *http.Request, d metering.Decision) {
	writeErr(r.Context(), w, m.refusal(callerMode(r), d))
}

func windowText(d time.Duration) string {
	if d == time.Minute {
		return "minute"
	}
	return d.String()
}

// peekAllowance is c's allowance without counting a request: get_usage on the dashboard.
func (m *meterHTTP) peekAllowance(ctx context.Context, c auth.Caller) (tools.Allowance, error) {
	if m.meter == nil {
		return tools.Allowance{}, errors.New("server: no meter without a store")
	}
	d, err := m.meter.Admit(ctx, c, 0, 0)
	return m.allowance(c, d), err
}

// allowance is what get_usage reports for this request.
func (m *meterHTTP) allowance(c auth.Caller, d metering.Decision) tools.Allowance {
	start := d.PeriodStart
	if start.IsZero() { // test mode keeps no quota period: still this calendar month
		y, mo, _ := d.Now.UTC().Date()
		start = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	}
	a := tools.Allowance{
		RateLimit: m.limits.RateLimit, Remaining: int(m.remaining(d)), Reset: d.Key.Start.Add(m.limits.RateWindow),
		Plan: d.Plan, PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Used: d.Used,
		MaxKeys: m.limits.MaxActiveKeys,
	}
	if c.Mode == auth.Live {
		a.Quota = &d.Quota
	}
	return a
}

// restLog is the log of a REST request: its route pattern, never the raw path or query,
// and the outcome reported by whatever answered it.
func (m *meterHTTP) restLog(r *http.Request, rec *statusRecorder, outcome *tools.OutcomeSlot, finished bool, start time.Time) store.RequestLog {
	status := rec.status
	if status == 0 && finished { // nothing written: net/http sends 200
		status = http.StatusOK
	} else if status == 0 {
		status = http.StatusInternalServerError
	}
	l := store.RequestLog{Surface: "rest", Method: &r.Method, Status: status}
	if o, ok := outcome.Get(); ok && o.Status == status && o.Code != "" {
		l.ErrorCode = logCode(o.Code)
	} else if status >= 400 {
		l.ErrorCode = statusCode(status)
	}
	// Only a capability's route pattern: for a path it would redirect, the mux returns the
	// cleaned raw path, which may hold ids or an email. The mux has set r.Pattern when it
	// served the request; it is looked up again only for a request it never saw (refused).
	pattern := r.Pattern
	if pattern == "" {
		_, pattern = m.mux.Handler(r)
	}
	if tool, ok := m.routeTools[pattern]; ok {
		_, path, _ := strings.Cut(pattern, " ")
		l.Path, l.Tool = &path, &tool
	}
	return m.stamp(r.Context(), start, l)
}

// stamp completes a log with the request's id, key and timing.
func (m *meterHTTP) stamp(ctx context.Context, start time.Time, l store.RequestLog) store.RequestLog {
	c, _ := auth.CallerFrom(ctx)
	l.RequestID, l.KeyID, l.CreatedAt, l.LatencyMS = tools.RequestID(ctx), c.KeyID, start, time.Since(start).Milliseconds()
	return l
}

// statusCode is the error code of a failed response nothing reported an outcome for (the
// MCP transport's plain-text errors): the code of its status.
func statusCode(status int) *string {
	code := tools.CodeBadRequest
	switch {
	case status >= 500:
		code = tools.CodeInternal
	case status == http.StatusNotFound:
		code = tools.CodeNotFound
	case status == http.StatusMethodNotAllowed:
		code = tools.CodeMethodNotAllowed
	case status == http.StatusRequestEntityTooLarge:
		code = tools.CodeTooLarge
	case status == http.StatusUnsupportedMediaType:
		code = tools.CodeUnsupportedMedia
	case status == http.StatusTooManyRequests:
		code = tools.CodeRateLimited
	}
	return logCode(code)
}

// logCode is code as a request log stores it.
func logCode(code tools.Code) *string {
	s := string(code)
	return &s
}

// callerMode is the mode of the request's key.
func callerMode(r *http.Request) auth.Mode {
	c, _ := auth.CallerFrom(r.Context())
	return c.Mode
}

// loggableToolName is the tool name a request log records: a name the client made up (an
// unknown tool) is kept to 100 bytes of valid text without NULs, which PostgreSQL refuses.
func loggableToolName(name string) string {
	name = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "\uFFFD")
	if len(name) > 100 {
		name = strings.ToValidUTF8(name[:100], "")
	}
	return name
}

// headerWriter is a statusRecorder that lets before add headers just before they are sent.
type headerWriter struct {
	statusRecorder
	before func(http.Header)
	sent   bool
}

func (w *headerWriter) WriteHeader(code int) {
	if !w.sent {
		w.sent = true
		w.before(w.Header())
	}
	w.statusRecorder.WriteHeader(code)
}

func (w *headerWriter) Write(b []byte) (int, error) {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return w.statusRecorder.Write(b)
}

// decisionSlot carries meterMCP's decision, made on the SDK's goroutine, to the response
// headers written on the request's.
type decisionSlot struct {
	mu  sync.Mutex
	d   metering.Decision
	set bool
}

type decisionKey struct{}

func (s *decisionSlot) put(d metering.Decision) {
	s.mu.Lock()
	s.d, s.set = d, true
	s.mu.Unlock()
}

func (s *decisionSlot) get() (metering.Decision, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d, s.set
}
