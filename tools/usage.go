package tools

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Usage is the caller's rate limit and its workspace's monthly quota.
type Usage struct {
	Object      string    `json:"object" enum:"usage" doc:"Always \"usage\"."`
	Mode        string    `json:"mode" enum:"live,test" doc:"The mode of the key; only live mode is metered against the quota."`
	Plan        string    `json:"plan" enum:"free,team" doc:"The workspace's plan, which sets its monthly quota."`
	PeriodStart time.Time `json:"period_start" doc:"Start of the quota period: the first day of this month, 00:00 UTC."`
	PeriodEnd   time.Time `json:"period_end" doc:"End of the quota period (exclusive): the first day of next month, 00:00 UTC."`
	Used        int64     `json:"used" doc:"Live requests counted this period, this one included. Always 0 in test mode, which is not metered."`
	Limit       *int64    `json:"limit" doc:"The plan's monthly quota of live requests; null in test mode, which has none."`
	RateLimit   RateLimit `json:"rate_limit" doc:"The API key's rate limit, as in the X-RateLimit-* headers of this response."`
}

// RateLimit is an API key's fixed rate-limit window.
type RateLimit struct {
	Limit     int   `json:"limit" doc:"Requests the key may make per window (one minute by default)."`
	Remaining int   `json:"remaining" doc:"Requests left in the current window."`
	Reset     int64 `json:"reset" doc:"When the current window ends and the count starts again, in Unix seconds."`
}

// RequestLog is one logged request: a REST call or an MCP tool call.
type RequestLog struct {
	ID        string    `json:"id" doc:"Unique id, starting with rlog_."`
	Object    string    `json:"object" enum:"request_log" doc:"Always \"request_log\"."`
	RequestID string    `json:"request_id" doc:"The request's Request-Id header (req_…); the tool calls of one MCP batch share it."`
	Surface   string    `json:"surface" enum:"rest,mcp" doc:"rest for a /v1 route, mcp for an MCP tool call."`
	Method    *string   `json:"method" doc:"HTTP method of a REST request; null for an MCP tool call."`
	Path      *string   `json:"path" doc:"Route pattern of a REST request, such as /v1/contacts/{id} (never ids or query strings); null for an MCP tool call or an unknown route."`
	Tool      *string   `json:"tool" doc:"The capability that ran: the MCP tool, or the tool a REST route mirrors."`
	Status    int       `json:"status" doc:"HTTP status; for an MCP tool call, the status the same REST call answers (an isError not_found is 404)."`
	ErrorCode *string   `json:"error_code" doc:"error.code of a failed request; null on success."`
	LatencyMS int64     `json:"latency_ms" doc:"Time spent serving the request, in milliseconds."`
	KeyID     string    `json:"key_id" doc:"Id of the API key used (key_…, or oag_… for an application connected with OAuth), never the secret."`
	Mode      string    `json:"mode" enum:"live,test"`
	CreatedAt time.Time `json:"created_at" doc:"When the request arrived."`
}

type requestLogFilter struct{}

func (requestLogFilter) spec() filter.Spec { return store.RequestLogs.Filters }

// ListRequestLogsInput filters and pages the request log.
type ListRequestLogsInput struct {
	Filter Filter[requestLogFilter] `json:"filter,omitempty"`
	Page
}

func usageTools(s *store.Store) []Tool {
	r := records[store.RequestLog, RequestLog]{s: s, table: store.RequestLogs, out: requestLogOut}
	return []Tool{
		&Capability[NoInput, Usage]{Info: Info{
			Name: "get_usage", Title: "Get usage", Toolset: "usage",
			Description: "Show how much of its limits this workspace and API key have used: the monthly quota of live " +
				"requests (test mode is not metered) and the key's per-minute rate limit. Every REST request and MCP tool " +
				"call counts, this one included. Returns {plan, period_start, period_end, used, limit, rate_limit: {limit, remaining, reset}}.",
			Annotations: Annotations{ReadOnly: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/usage", Status: http.StatusOK},
		}, Handle: getUsage},
		&Capability[ListRequestLogsInput, List[RequestLog]]{Info: Info{
			Name: "list_request_logs", Title: "List request logs", Toolset: "usage",
			Description: "List the requests made in this workspace and mode, newest first: one entry per REST request and " +
				"per MCP tool call, with the route or tool, status, error code, latency and key id (never bodies). Use it to " +
				"see what an agent did and why calls failed. Filter with filter, e.g. {\"surface\":\"mcp\",\"status\":{\"gte\":400}," +
				"\"tool\":\"create_contact\"}; logs are kept 30 days. Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/request_logs", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListRequestLogsInput) (List[RequestLog], error) {
			return r.list(ctx, in.Page, in.Filter)
		}},
	}
}

func getUsage(ctx context.Context, _ NoInput) (Usage, error) {
	c, okc := auth.CallerFrom(ctx)
	a, oka := AllowanceFrom(ctx)
	if !okc || !oka {
		return Usage{}, errors.New("tools: get_usage without a caller or metering in context")
	}
	return Usage{
		Object: "usage", Mode: string(c.Mode), Plan: a.Plan,
		PeriodStart: a.PeriodStart.UTC(), PeriodEnd: a.PeriodEnd.UTC(), Used: a.Used, Limit: a.Quota,
		RateLimit: RateLimit{Limit: a.RateLimit, Remaining: a.Remaining, Reset: a.Reset.Unix()},
	}, nil
}

func requestLogOut(l store.RequestLog) RequestLog {
	return RequestLog{
		ID: l.ID, Object: "request_log", RequestID: l.RequestID, Surface: l.Surface, Method: l.Method, Path: l.Path,
		Tool: l.Tool, Status: l.Status, ErrorCode: l.ErrorCode, LatencyMS: l.LatencyMS, KeyID: l.KeyID,
		Mode: string(l.Mode), CreatedAt: l.CreatedAt.UTC(),
	}
}
