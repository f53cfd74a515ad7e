package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relmcrm/relm/tools"
)

var _ = page("GET /logs", (*Dashboard).logsPage)

// logFilters are the query fields of /logs that narrow the list, in link order.
var logFilters = []string{"status", "error_code", "surface", "tool", "key_id", "request_id", "since"}

// statusFilters are the status choices besides an exact code.
var statusFilters = map[string]map[string]any{
	"ok":     {"lt": json.Number("400")},
	"errors": {"gte": json.Number("400")},
	"4xx":    {"gte": json.Number("400"), "lt": json.Number("500")},
	"5xx":    {"gte": json.Number("500")},
}

// logsPage shows the workspace's usage in the session's mode and its request log, newest
// first, filtered by the query and paged by cursor.
func (d *Dashboard) logsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	q := map[string]string{}
	keep := url.Values{}
	for _, f := range logFilters {
		if val := strings.TrimSpace(r.FormValue(f)); val != "" {
			q[f] = val
			keep.Set(f, val)
		}
	}
	data := map[string]any{"Q": q}
	usage, uerr := d.usage(r, v)
	data["Usage"] = usage
	if uerr != "" {
		data["UsageError"] = uerr
	}
	filter, ok := logFilter(q)
	if !ok {
		data["Error"] = "Status must be a code such as 404, or ok, errors, 4xx or 5xx."
		d.render(w, r, v, "logs", "Request logs", data)
		return
	}
	args := map[string]any{"limit": json.Number("50"), "filter": filter}
	if c := r.FormValue("cursor"); c != "" {
		args["cursor"] = c
	}
	list, err := d.call(r, v, "list_request_logs", args)
	if err != nil {
		data["Error"] = errorText(err)
	}
	data["List"] = list
	if list != nil && list["has_more"] == true {
		keep.Set("cursor", str(list["next_cursor"]))
		data["Next"] = "/logs?" + keep.Encode()
	}
	d.render(w, r, v, "logs", "Request logs", data)
}

// logFilter is list_request_logs' filter for the query q; ok is false for a status that
// is neither a code nor a choice.
func logFilter(q map[string]string) (f map[string]any, ok bool) {
	f = map[string]any{}
	if s := q["status"]; s != "" {
		if ops, named := statusFilters[s]; named {
			f["status"] = ops
		} else if _, err := strconv.Atoi(s); err == nil && len(s) == 3 {
			f["status"] = json.Number(s)
		} else {
			return nil, false
		}
	}
	for _, k := range []string{"error_code", "surface", "tool", "key_id", "request_id"} {
		if q[k] != "" {
			f[k] = q[k]
		}
	}
	if q["since"] != "" {
		f["created_at"] = map[string]any{"gte": q["since"]}
	}
	return f, true
}

// usage is get_usage's answer for the visit's workspace and mode, read without counting a
// request; problem says why there is none.
func (d *Dashboard) usage(r *http.Request, v *visit) (out map[string]any, problem string) {
	if d.allow == nil {
		return nil, "Usage is not available on this server."
	}
	c := v.caller()
	a, err := d.allow(r.Context(), c)
	if err != nil {
		d.log.ErrorContext(r.Context(), "dashboard usage", "err", err)
		return nil, "Usage could not be read right now. Reload the page shortly."
	}
	out, err = d.reg.CallJSON(tools.WithAllowance(v.ctx(r), a), "get_usage", map[string]any{})
	if err != nil {
		if te, ok := err.(*tools.Error); ok {
			return nil, errorText(te)
		}
		d.log.ErrorContext(r.Context(), "dashboard usage", "err", err)
		return nil, "Usage could not be read right now. Reload the page shortly."
	}
	return out, ""
}
