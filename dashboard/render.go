package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

// view is what every page template gets: the layout's parts and the page's own Data.
type view struct {
	Title      string
	Nav        string // the active navigation entry
	Visit      *visit // nil on the sign-in pages
	Workspaces []store.Membership
	Flash      *flash
	Version    string
	Data       any
}

// render writes page name with data, inside the layout.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, v *visit, name, title string, data any) {
	d.renderStatus(w, r, v, http.StatusOK, name, title, data)
}

func (d *Dashboard) renderStatus(w http.ResponseWriter, r *http.Request, v *visit, status int, name, title string, data any) {
	d.renderAs(w, r, v, status, name, name, title, data)
}

// renderAs writes page name under navigation entry nav (a template shared by several pages).
func (d *Dashboard) renderAs(w http.ResponseWriter, r *http.Request, v *visit, status int, name, nav, title string, data any) {
	t, ok := d.pages[name]
	if !ok {
		d.fail(w, r, fmt.Errorf("dashboard: no page %q", name))
		return
	}
	vw := view{Title: title, Nav: nav, Visit: v, Flash: d.takeFlash(w, r), Version: d.version, Data: data}
	if v != nil {
		ws, err := d.store.UserWorkspaces(r.Context(), v.UserID)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		vw.Workspaces = ws
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", vw); err != nil {
		d.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage answers status with a page saying what to do.
func (d *Dashboard) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	d.renderStatus(w, r, nil, status, "error", http.StatusText(status), message)
}

// fail logs an unexpected error and answers 500.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	d.log.ErrorContext(r.Context(), "dashboard", "path", r.URL.Path, "request_id", tools.RequestID(r.Context()), "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprintln(w, "Something went wrong on our side. Retry shortly.")
}

// funcs are the helpers templates use.
var funcs = template.FuncMap{
	"str":  str,
	"when": when,
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"eq2": func(a, b any) bool { return str(a) == str(b) },
	"field": func(m map[string]any, key string) any {
		if m == nil {
			return nil
		}
		return m[key]
	},
	"list": func(v any) []map[string]any {
		m, _ := v.(map[string]any)
		return tools.ListData(m)
	},
	"items": func(v any) []any {
		a, _ := v.([]any)
		return a
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[str(kv[i])] = kv[i+1]
		}
		return m
	},
}

// str is a JSON value as a person reads it ("" for null).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// when is a timestamp (RFC 3339 string or time.Time) as "2006-01-02 15:04 UTC".
func when(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	case string:
		p, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return x
		}
		t = p
	default:
		return str(v)
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
