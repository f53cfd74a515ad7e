package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/relmcrm/relm/server"
)

// limitFlags are serve's rate-limit and quota flags.
type limitFlags struct {
	rate, quotaFree, quotaTeam int64
	err                        error // a malformed RELM_* value
}

func (f *limitFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&f.rate, "rate-limit", f.envInt("RELM_RATE_LIMIT", server.DefaultRateLimit),
		"requests per minute per API key, REST requests and MCP tool calls alike (RELM_RATE_LIMIT)")
	fs.Int64Var(&f.quotaFree, "quota-free", f.envInt("RELM_QUOTA_FREE", server.DefaultQuotaFree),
		"live requests per calendar month per workspace on the free plan (RELM_QUOTA_FREE)")
	fs.Int64Var(&f.quotaTeam, "quota-team", f.envInt("RELM_QUOTA_TEAM", server.DefaultQuotaTeam),
		"live requests per calendar month per workspace on the team plan (RELM_QUOTA_TEAM)")
}

func (f *limitFlags) envInt(name string, def int64) int64 {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%s=%q is not a whole number", name, v)
	}
	return n
}

// limits checks the flags and returns the server's limits.
func (f *limitFlags) limits() (server.Limits, error) {
	if f.err != nil {
		return server.Limits{}, f.err
	}
	if f.rate < 1 || f.rate > 1<<31-1 || f.quotaFree < 1 || f.quotaTeam < 1 {
		return server.Limits{}, fmt.Errorf("--rate-limit, --quota-free and --quota-team must be positive whole numbers")
	}
	return server.Limits{RateLimit: int(f.rate), RateWindow: time.Minute, QuotaFree: f.quotaFree, QuotaTeam: f.quotaTeam}, nil
}
