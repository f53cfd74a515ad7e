package resources

import (
	"context"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/tools"
)

// recentPage is how many events one page of resources/list reads for recently changed
// records (each record appears once per page, at its latest change).
const recentPage = 100

// ListRecent is MCP middleware answering resources/list with the fixed resources
// (relm://schema) followed by the caller's recently changed records, newest first, as
// relm://contacts/{id}… resources named by their title: those the latest events of the
// workspace and mode created or changed (deleted ones left out), a page of events at a time,
// with nextCursor while there are older events.
func ListRecent(reg *tools.Registry) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			lr, isList := req.(*mcp.ListResourcesRequest)
			if method != "resources/list" || !isList {
				return next(ctx, method, req)
			}
			cursor := ""
			if lr.Params != nil {
				cursor = lr.Params.Cursor
			}
			res := &mcp.ListResourcesResult{}
			if cursor == "" { // the fixed resources come first, once
				r, err := next(ctx, method, req)
				if err != nil {
					return nil, err
				}
				res = r.(*mcp.ListResourcesResult)
			}
			args := map[string]any{"limit": recentPage}
			if cursor != "" {
				args["cursor"] = cursor
			}
			page, err := reg.CallJSON(ctx, "list_events", args)
			if err != nil {
				return nil, err
			}
			res.Resources = append(res.Resources, recentRecords(page)...)
			if more, _ := page["has_more"].(bool); more {
				res.NextCursor, _ = page["next_cursor"].(string)
			}
			return res, nil
		}
	}
}

// recentRecords are the records a page of events changed, each once, newest change first;
// a record whose latest change in the page is its deletion is left out.
func recentRecords(page map[string]any) []*mcp.Resource {
	var out []*mcp.Resource
	seen := map[string]bool{}
	for _, ev := range tools.ListData(page) {
		typ, _ := ev["type"].(string)
		payload, _ := ev["data"].(map[string]any)
		rec, _ := payload["object"].(map[string]any)
		id, _ := rec["id"].(string)
		kind, _ := rec["object"].(string)
		t, ok := templateOf(kind)
		if !ok || id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if strings.HasSuffix(typ, ".deleted") {
			continue
		}
		out = append(out, &mcp.Resource{URI: t.prefix + id, Name: id, Title: titleOf(kind, rec), MIMEType: "application/json",
			Description: "A " + kind + " changed lately (" + typ + ")."})
	}
	return out
}

// templateOf is the template of the record kind (contact …), if it has one with an id.
func templateOf(kind string) (template, bool) {
	for _, t := range templates {
		if t.name == kind && t.param == "id" {
			return t, true
		}
	}
	return template{}, false
}

// titleOf names a record for people: a contact's name or email, a company's name, a deal's
// title, an activity's subject or type.
func titleOf(kind string, rec map[string]any) string {
	str := func(k string) string { s, _ := rec[k].(string); return s }
	switch kind {
	case "contact":
		if name := strings.TrimSpace(str("first_name") + " " + str("last_name")); name != "" {
			return name
		}
		return str("email")
	case "company":
		return str("name")
	case "deal":
		return str("title")
	case "activity":
		if s := str("subject"); s != "" {
			return s
		}
		return str("type")
	}
	return ""
}
