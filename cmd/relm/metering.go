package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/relmcrm/relm/metering"
	"github.com/relmcrm/relm/server"
)

// limitFlags are serve's rate-limit and quota flags.
type limitFlags struct {
	rate, workspaceRate, quotaFree, quotaTeam int64
	maxKeys, inFlightKey, inFlightTenant      int64
	authFailures, connsPerClient              int64
	timeouts                                  server.Timeouts
	rescueAfter, meterSync, logFlush          time.Duration
	logBuffer                                 int64
	memoryLimit                               string
	err                                       error // a malformed RELM_* value
}

func (f *limitFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&f.rate, "rate-limit", f.envInt("RELM_RATE_LIMIT", server.DefaultRateLimit),
		"requests per minute per API key, REST requests and MCP tool calls alike (RELM_RATE_LIMIT)")
	fs.Int64Var(&f.workspaceRate, "workspace-rate-limit", f.envInt("RELM_WORKSPACE_RATE_LIMIT", server.DefaultWorkspaceRateLimit),
		"requests per minute per workspace and mode, all its keys together (RELM_WORKSPACE_RATE_LIMIT)")
	fs.Int64Var(&f.maxKeys, "max-keys", f.envInt("RELM_MAX_KEYS", server.DefaultMaxActiveKeys),
		"unrevoked API keys a workspace may hold per mode (RELM_MAX_KEYS)")
	fs.Int64Var(&f.inFlightKey, "max-in-flight-key", f.envInt("RELM_MAX_IN_FLIGHT_KEY", server.DefaultInFlightPerKey),
		"requests one API key may have running at once (RELM_MAX_IN_FLIGHT_KEY)")
	fs.Int64Var(&f.inFlightTenant, "max-in-flight-workspace", f.envInt("RELM_MAX_IN_FLIGHT_WORKSPACE", server.DefaultInFlightPerTenant),
		"requests a workspace's keys of one mode may have running at once together (RELM_MAX_IN_FLIGHT_WORKSPACE)")
	fs.Int64Var(&f.authFailures, "auth-failure-limit", f.envInt("RELM_AUTH_FAILURE_LIMIT", server.DefaultAuthFailures),
		"failed authentications per client address per minute before the address is refused with 429 (RELM_AUTH_FAILURE_LIMIT)")
	fs.Int64Var(&f.connsPerClient, "max-conns-per-client", f.envInt("RELM_MAX_CONNS_PER_CLIENT", server.DefaultConnsPerClient),
		"open connections per client address, idle ones included; 0 for no cap (RELM_MAX_CONNS_PER_CLIENT)")
	fs.DurationVar(&f.timeouts.Read, "read-timeout", f.envDuration("RELM_READ_TIMEOUT", server.DefaultTimeouts.Read),
		"time a client has to send a whole request, body included (RELM_READ_TIMEOUT)")
	fs.DurationVar(&f.timeouts.Write, "write-timeout", f.envDuration("RELM_WRITE_TIMEOUT", server.DefaultTimeouts.Write),
		"time a request has from its headers to the end of its response, however slowly the client reads (RELM_WRITE_TIMEOUT)")
	fs.DurationVar(&f.timeouts.Idle, "idle-timeout", f.envDuration("RELM_IDLE_TIMEOUT", server.DefaultTimeouts.Idle),
		"time an idle keep-alive connection is kept open (RELM_IDLE_TIMEOUT)")
	fs.DurationVar(&f.rescueAfter, "webhook-rescue-after", f.envDuration("RELM_WEBHOOK_RESCUE_AFTER", 2*time.Minute),
		"how long a webhook attempt may be running before another process takes it over, as after a crash (RELM_WEBHOOK_RESCUE_AFTER)")
	fs.DurationVar(&f.meterSync, "meter-sync", f.envDuration("RELM_METER_SYNC", metering.DefaultSyncEvery),
		"how often this process adds its rate-limit and quota counts to the shared ones and reads the others' back (RELM_METER_SYNC)")
	fs.DurationVar(&f.logFlush, "log-flush", f.envDuration("RELM_LOG_FLUSH", metering.DefaultLogFlushEvery),
		"how often buffered request logs are written (RELM_LOG_FLUSH)")
	fs.Int64Var(&f.logBuffer, "log-buffer", f.envInt("RELM_LOG_BUFFER", metering.DefaultLogBuffer),
		"request logs held in memory at most; beyond it new ones are dropped and counted in /metrics (RELM_LOG_BUFFER)")
	fs.StringVar(&f.memoryLimit, "memory-limit", env("RELM_MEMORY_LIMIT", ""),
		"soft memory limit of the Go runtime, such as 512MiB or 2GiB (RELM_MEMORY_LIMIT; default: GOMEMLIMIT if set, else 1GiB)")
	fs.Int64Var(&f.quotaFree, "quota-free", f.envInt("RELM_QUOTA_FREE", server.DefaultQuotaFree),
		"live requests per calendar month per workspace on the free plan (RELM_QUOTA_FREE)")
	fs.Int64Var(&f.quotaTeam, "quota-team", f.envInt("RELM_QUOTA_TEAM", server.DefaultQuotaTeam),
		"live requests per calendar month per workspace on the team plan (RELM_QUOTA_TEAM)")
}

func (f *limitFlags) envInt(name string, def int64) int64 {
	return envValue(f, name, def, func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) }, "a whole number")
}

func (f *limitFlags) envDuration(name string, def time.Duration) time.Duration {
	return envValue(f, name, def, time.ParseDuration, "a duration such as 30s")
}

// envValue is the flag default from environment variable name, parsed, or def when unset;
// a malformed value is remembered in f.err, for limits to report.
func envValue[T any](f *limitFlags, name string, def T, parse func(string) (T, error), what string) T {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := parse(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%s=%q is not %s", name, v, what)
	}
	return n
}

// limits checks the flags and returns the server's limits.
func (f *limitFlags) limits() (server.Limits, error) {
	if f.err != nil {
		return server.Limits{}, f.err
	}
	for _, n := range []struct {
		flag string
		v    int64
	}{{"rate-limit", f.rate}, {"workspace-rate-limit", f.workspaceRate}, {"quota-free", f.quotaFree}, {"quota-team", f.quotaTeam},
		{"max-keys", f.maxKeys}, {"max-in-flight-key", f.inFlightKey}, {"max-in-flight-workspace", f.inFlightTenant},
		{"auth-failure-limit", f.authFailures}, {"log-buffer", f.logBuffer}} {
		if n.v < 1 || n.v > 1<<31-1 {
			return server.Limits{}, fmt.Errorf("--%s must be a positive whole number", n.flag)
		}
	}
	if f.connsPerClient < 0 || f.timeouts.Read <= 0 || f.timeouts.Write <= 0 || f.timeouts.Idle <= 0 {
		return server.Limits{}, fmt.Errorf("--max-conns-per-client must be 0 or more, and the timeouts positive")
	}
	if f.meterSync < time.Millisecond || f.meterSync > time.Minute || f.logFlush < time.Millisecond || f.logFlush > time.Minute {
		return server.Limits{}, fmt.Errorf("--meter-sync and --log-flush must be between 1ms and 1m")
	}
	return server.Limits{RateLimit: int(f.rate), WorkspaceRateLimit: int(f.workspaceRate), RateWindow: time.Minute,
		QuotaFree: f.quotaFree, QuotaTeam: f.quotaTeam, MaxActiveKeys: int(f.maxKeys), InFlightPerKey: int(f.inFlightKey),
		InFlightPerTenant: int(f.inFlightTenant), AuthFailures: int(f.authFailures),
		SyncEvery: f.meterSync, LogFlushEvery: f.logFlush, LogBuffer: int(f.logBuffer)}, nil
}

// defaultMemoryLimit is the Go runtime's soft memory limit when neither --memory-limit nor
// GOMEMLIMIT sets one: past it the garbage collector works harder and returns memory to
// the system sooner.
const defaultMemoryLimit = 1 << 30

// defaultGCPercent is the garbage collector's target (GOGC) when GOGC is not set: a
// collection starts once the heap has grown by 400% of what the last one kept, not Go's
// 100%. A request's garbage is most of what the server allocates and little of it lives,
// so collecting a quarter as often cuts the collector's share of a request's CPU (7% of a
// point read at GOGC=100) while the heap stays far below the soft memory limit, which
// makes the collector work harder as the heap nears it whatever GOGC says.
const defaultGCPercent = 400

// applyMemoryLimit sets the runtime's soft memory limit from --memory-limit, GOMEMLIMIT or
// the default, and returns it; and the collector's target from GOGC or defaultGCPercent.
func (f *limitFlags) applyMemoryLimit() (int64, error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if f.memoryLimit == "" {
		if os.Getenv("GOMEMLIMIT") != "" {
			return debug.SetMemoryLimit(-1), nil // the runtime read it at start
		}
		debug.SetMemoryLimit(defaultMemoryLimit)
		return defaultMemoryLimit, nil
	}
	n, err := parseBytes(f.memoryLimit)
	if err != nil {
		return 0, fmt.Errorf("--memory-limit %q: %w", f.memoryLimit, err)
	}
	debug.SetMemoryLimit(n)
	return n, nil
}

// parseBytes reads a size in bytes, with an optional KiB, MiB or GiB suffix.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size such as 512MiB or 2GiB")
	}
	return n * mult, nil
}
