package server

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relmcrm/relm/auth"
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
	return l
}

// orDefault sets *v to def unless it is positive.
func orDefault[T int | int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// metering counts every authenticated request on /v1 and every MCP tool call against the
// key's rate limit and, in live mode, the workspace's monthly quota; refuses what is over
// with 429; puts X-RateLimit-* headers on the response; and writes the request log.
type metering struct {
	log        *slog.Logger
	store      *store.Store
	limits     Limits
	reg        *tools.Registry
	mux        *http.ServeMux
	routeTools map[string]string // mux pattern ("GET /v1/contacts/{id}") -> tool name
	next       http.Handler
}

// meter wraps next, which must run after authentication (it needs the caller).
func meter(cfg Config, reg *tools.Registry, mux *http.ServeMux, next http.Handler) http.Handler {
	m := &metering{log: cfg.Logger, store: cfg.Store, limits: cfg.Limits.withDefaults(), reg: reg, mux: mux,
		routeTools: map[string]string{}, next: next}
	for _, e := range reg.Entries() {
		if e.REST != nil {
			m.routeTools[e.REST.Method+" "+e.REST.Path] = e.Name
		}
		for _, a := range e.Aliases {
			m.routeTools[a.Method+" "+a.Path] = e.Name
		}
	}
	return m
}

func (m *metering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := auth.CallerFrom(r.Context())
	if !ok || m.store == nil { // not a metered path, or refused as unauthorized: no key to count against
		m.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	msg, isMCP := mcpMessageFrom(r.Context())
	if isMCP && !msg.Call { // a notification or a response: no work to count
		m.peek(w, r, c)
		m.next.ServeHTTP(w, r)
		return
	}
	quota := 1 // REST requests and MCP tool calls count toward the quota; other MCP requests only toward the rate limits
	if isMCP && msg.Tool == "" && msg.Method != "tools/call" {
		quota = 0
	}
	res, err := m.store.Meter(r.Context(), store.MeterParams{Caller: c, Requests: 1, QuotaRequests: quota,
		RateLimit: m.limits.RateLimit, WorkspaceRateLimit: m.limits.WorkspaceRateLimit, RateWindow: m.limits.RateWindow,
		QuotaFree: m.limits.QuotaFree, QuotaTeam: m.limits.QuotaTeam})
	if err != nil {
		m.log.ErrorContext(r.Context(), "meter request", "request_id", tools.RequestID(r.Context()), "err", err)
		writeErr(r.Context(), w, tools.Unexpected(err, "Could not check the rate limit right now. Retry shortly."))
		return
	}
	m.setHeaders(w.Header(), res)

	rec := &meterWriter{statusRecorder: statusRecorder{ResponseWriter: w}}
	ctx, outcomes := tools.WithOutcomes(r.Context())
	ctx = tools.WithAllowance(ctx, m.allowance(c, res))
	r = r.WithContext(ctx)
	finished := false
	defer func() { // also when next panics (recoverPanics answers 500 afterwards)
		if rec.status == 0 && finished { // nothing written: net/http sends 200
			rec.status = http.StatusOK
		} else if rec.status == 0 {
			rec.status = http.StatusInternalServerError
		}
		var logs []store.RequestLog
		switch {
		case !isMCP:
			logs = []store.RequestLog{m.restLog(r, rec)}
		case msg.Method == "tools/call":
			logs = m.mcpLogs([]string{msg.Tool}, outcomes.List(), rec)
		}
		if len(logs) > 0 {
			m.record(r.Context(), c, start, logs)
		}
	}()
	if res.Refusal != store.Allowed { // refused: nothing counted, nothing run, but logged
		m.refuse(rec, r, res)
	} else {
		m.next.ServeHTTP(rec, r)
	}
	finished = true
}

// peek puts the rate-limit headers on an MCP request that is not a tool call, without
// counting it.
func (m *metering) peek(w http.ResponseWriter, r *http.Request, c auth.Caller) {
	win, err := m.store.PeekRateWindow(r.Context(), c, m.limits.RateWindow)
	if err != nil {
		m.log.ErrorContext(r.Context(), "read rate window", "request_id", tools.RequestID(r.Context()), "err", err)
		return
	}
	m.setHeaders(w.Header(), store.Meter{RateWindow: win, Workspace: store.RateWindow{Start: win.Start}})
}

// setHeaders puts X-RateLimit-* on a response: the key's limit, or the workspace's when
// fewer requests remain under it.
func (m *metering) setHeaders(h http.Header, res store.Meter) {
	limit, remaining, reset := m.limits.RateLimit, m.remaining(res), res.Start.Add(m.limits.RateWindow)
	if ws := m.workspaceRemaining(res); ws < remaining || res.Refusal == store.WorkspaceRateLimited {
		limit, remaining, reset = m.limits.WorkspaceRateLimit, ws, res.Workspace.Start.Add(m.limits.RateWindow)
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// remaining is what the key may still request in its window.
func (m *metering) remaining(res store.Meter) int64 {
	return max(0, int64(m.limits.RateLimit)-res.Count)
}

// workspaceRemaining is what the workspace's keys may still request together in theirs.
func (m *metering) workspaceRemaining(res store.Meter) int64 {
	return max(0, int64(m.limits.WorkspaceRateLimit)-res.Workspace.Count)
}

// refuse answers 429: rate_limited until the window ends, quota_exceeded until the month does.
func (m *metering) refuse(w http.ResponseWriter, r *http.Request, res store.Meter) {
	var e *tools.Error
	var until time.Time
	if res.Refusal == store.QuotaExceeded {
		until = res.PeriodStart.AddDate(0, 1, 0)
		e = tools.NewError(tools.CodeQuotaExceeded, "This workspace has used the %d live requests its %s plan allows per month. "+
			"The quota renews on %s (UTC). Until then, keep working with a test key (test mode is not metered) or move the workspace to a larger plan.",
			res.Quota, res.Plan, until.Format(time.DateOnly))
	} else if res.Refusal == store.WorkspaceRateLimited {
		until = res.Workspace.Start.Add(m.limits.RateWindow)
		e = tools.NewError(tools.CodeRateLimited, "This workspace's %s keys have together made the %d requests they may make per %s. "+
			"Wait until the window resets (Retry-After gives the seconds), then spread requests out; more keys do not raise this limit.",
			callerMode(r), m.limits.WorkspaceRateLimit, windowText(m.limits.RateWindow))
	} else {
		until = res.Start.Add(m.limits.RateWindow)
		e = tools.NewError(tools.CodeRateLimited, "This API key has made the %d requests it may make per %s. "+
			"Wait until the window resets (Retry-After gives the seconds), then spread requests out.", m.limits.RateLimit, windowText(m.limits.RateWindow))
	}
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(until.Sub(res.Now).Seconds()))), 10))
	writeErr(r.Context(), w, e)
}

func windowText(d time.Duration) string {
	if d == time.Minute {
		return "minute"
	}
	return d.String()
}

// allowance is what get_usage reports for this request.
func (m *metering) allowance(c auth.Caller, res store.Meter) tools.Allowance {
	a := tools.Allowance{
		RateLimit: m.limits.RateLimit, Remaining: int(m.remaining(res)), Reset: res.Start.Add(m.limits.RateWindow),
		Plan: res.Plan, PeriodStart: res.PeriodStart, PeriodEnd: res.PeriodStart.AddDate(0, 1, 0), Used: res.Used,
		MaxKeys: m.limits.MaxActiveKeys,
	}
	if c.Mode == auth.Live {
		a.Quota = &res.Quota
	}
	return a
}

// restLog is the log of a REST request: its route pattern, never the raw path or query.
func (m *metering) restLog(r *http.Request, rec *meterWriter) store.RequestLog {
	l := store.RequestLog{Surface: "rest", Method: &r.Method, Status: rec.status, ErrorCode: rec.errorCode()}
	// Only a capability's route pattern: for a path it would redirect, the mux returns the
	// cleaned raw path, which may hold ids or an email.
	_, pattern := m.mux.Handler(r)
	if tool, ok := m.routeTools[pattern]; ok {
		_, path, _ := strings.Cut(pattern, " ")
		l.Path, l.Tool = &path, &tool
	}
	return l
}

// mcpLogs are the logs of an MCP request's tool calls: the outcome each recorded or,
// for a call that never reached a tool (refused, rejected by the transport or the SDK),
// the HTTP status of the request.
func (m *metering) mcpLogs(calls []string, outcomes []tools.Outcome, rec *meterWriter) []store.RequestLog {
	logs := make([]store.RequestLog, len(calls))
	for i, name := range calls {
		logged := loggableToolName(name)
		l := store.RequestLog{Surface: "mcp", Tool: &logged}
		j := indexOf(outcomes, name)
		switch {
		case j >= 0:
			l.Status = outcomes[j].Status
			if outcomes[j].Code != "" {
				l.ErrorCode = &outcomes[j].Code
			}
			outcomes = append(outcomes[:j], outcomes[j+1:]...)
		case rec.status >= 400:
			l.Status, l.ErrorCode = rec.status, rec.errorCode()
		default:
			code := tools.CodeBadRequest
			if _, known := m.reg.Lookup(name); !known {
				code = tools.CodeNotFound
			}
			l.Status, l.ErrorCode = tools.Codes[code], &code
		}
		logs[i] = l
	}
	return logs
}

func indexOf(outcomes []tools.Outcome, tool string) int {
	for i, o := range outcomes {
		if o.Tool == tool {
			return i
		}
	}
	return -1
}

// record writes the logs once the response is complete, even if the client has gone.
func (m *metering) record(ctx context.Context, c auth.Caller, start time.Time, logs []store.RequestLog) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	latency := time.Since(start).Milliseconds()
	for i := range logs {
		logs[i].RequestID, logs[i].KeyID, logs[i].CreatedAt, logs[i].LatencyMS = tools.RequestID(ctx), c.KeyID, start, latency
	}
	if err := m.store.RecordRequests(ctx, c, logs...); err != nil {
		m.log.ErrorContext(ctx, "record request logs", "request_id", tools.RequestID(ctx), "err", err)
	}
}

// meterWriter records the status, and the start of an error body, whose code the request
// log records.
type meterWriter struct {
	statusRecorder
	head []byte
}

const errorHeadBytes = 256

func (w *meterWriter) Write(b []byte) (int, error) {
	n, err := w.statusRecorder.Write(b)
	if w.status >= 400 && len(w.head) < errorHeadBytes {
		w.head = append(w.head, b[:min(n, errorHeadBytes-len(w.head))]...)
	}
	return n, err
}

// errorBodyCode matches the start of every error body Relm writes.
var errorBodyCode = regexp.MustCompile(`^\{"error":\{"code":"([a-z_]+)"`)

// errorCode is the error code of a failed response: the body's, or for a body that is not
// Relm's error JSON (the MCP transport's plain-text errors), the code of its status.
func (w *meterWriter) errorCode() *string {
	if w.status < 400 {
		return nil
	}
	if m := errorBodyCode.FindSubmatch(w.head); m != nil {
		code := string(m[1])
		return &code
	}
	code := tools.CodeBadRequest
	switch {
	case w.status >= 500:
		code = tools.CodeInternal
	case w.status == http.StatusNotFound:
		code = tools.CodeNotFound
	case w.status == http.StatusMethodNotAllowed:
		code = tools.CodeMethodNotAllowed
	case w.status == http.StatusRequestEntityTooLarge:
		code = tools.CodeTooLarge
	case w.status == http.StatusUnsupportedMediaType:
		code = tools.CodeUnsupportedMedia
	}
	return &code
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
