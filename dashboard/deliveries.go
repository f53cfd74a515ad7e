package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// deliveryPageSize is how many deliveries the webhooks page lists at once.
const deliveryPageSize = 50

// deliveryList is the deliveries table of the webhooks page: its filters, rows, and
// whether any row is still waiting for an attempt (the table then refreshes itself).
type deliveryList struct {
	Endpoint, Status, EventType string
	Rows                        []map[string]any
	URLs                        map[string]string // endpoint id -> url
	Pending                     bool
	Next                        string // the next page's link, when one endpoint is chosen
	More                        bool   // older deliveries exist under some endpoint
	Errors                      []string
}

// deliveries lists the deliveries the query's filters choose: one endpoint's a page at a
// time, or the newest of every endpoint's together.
func (d *Dashboard) deliveries(r *http.Request, v *visit, endpoints []map[string]any) deliveryList {
	q := r.URL.Query()
	dl := deliveryList{Endpoint: q.Get("endpoint"), Status: q.Get("status"), EventType: strings.TrimSpace(q.Get("event_type")),
		URLs: map[string]string{}}
	for _, ep := range endpoints {
		dl.URLs[str(ep["id"])] = str(ep["url"])
	}
	args := map[string]any{"limit": json.Number("50")}
	if dl.Status != "" {
		args["status"] = dl.Status
	}
	if dl.EventType != "" {
		args["event_type"] = dl.EventType
	}
	var ids []string
	for _, ep := range endpoints {
		ids = append(ids, str(ep["id"]))
	}
	if dl.Endpoint != "" {
		ids = []string{dl.Endpoint}
		if c := q.Get("cursor"); c != "" {
			args["cursor"] = c
		}
	}
	for _, id := range ids {
		args["id"] = id
		list, err := d.call(r, v, "list_webhook_deliveries", args)
		if err != nil {
			if msg := errorText(err); !slices.Contains(dl.Errors, msg) {
				dl.Errors = append(dl.Errors, msg)
			}
			continue
		}
		dl.Rows = append(dl.Rows, listData(list)...)
		if more, _ := list["has_more"].(bool); more {
			dl.More = true
			if dl.Endpoint != "" {
				dl.Next = deliveriesLink(dl, str(list["next_cursor"]))
			}
		}
	}
	slices.SortStableFunc(dl.Rows, func(a, b map[string]any) int { return stamp(b["created_at"]).Compare(stamp(a["created_at"])) })
	if len(dl.Rows) > deliveryPageSize {
		dl.Rows, dl.More = dl.Rows[:deliveryPageSize], true
	}
	for _, row := range dl.Rows {
		if attempts, _ := row["attempts"].([]any); len(attempts) > 0 {
			last, _ := attempts[len(attempts)-1].(map[string]any)
			row["last_attempt_at"] = last["attempted_at"]
		}
		dl.Pending = dl.Pending || isPending(row)
	}
	return dl
}

// deliveriesLink is the webhooks page showing the deliveries of dl's filters from cursor on.
func deliveriesLink(dl deliveryList, cursor string) string {
	q := url.Values{"endpoint": {dl.Endpoint}, "cursor": {cursor}}
	if dl.Status != "" {
		q.Set("status", dl.Status)
	}
	if dl.EventType != "" {
		q.Set("event_type", dl.EventType)
	}
	return "/webhooks?" + q.Encode() + "#deliveries"
}

// isPending reports whether a delivery still waits for an attempt.
func isPending(delivery map[string]any) bool {
	s := str(delivery["status"])
	return s == "pending" || s == "retrying"
}

// stamp is an RFC 3339 timestamp of a result (zero when it is not one).
func stamp(v any) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(v))
	return t
}
