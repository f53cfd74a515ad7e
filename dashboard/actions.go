package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/relmcrm/relm/tools"
)

func (d *Dashboard) routeActions(mux *http.ServeMux) {
	mux.Handle("POST /actions/{tool}", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.act(w, r, v) }))
}

// act runs the capability named in the path with the form's fields as its arguments, as the
// signed-in member, then goes back to the form's page (its "back" field) with a notice. The
// page's forms are thin: the capability validates, and its errors are what the person reads.
//
// Fields map to arguments by the capability's input schema: integers and numbers are parsed,
// booleans are "true"/"on"/"false", arrays are comma-separated (or repeated fields), and
// objects are JSON. Empty fields are left out. A "_json" field holds a JSON object of more
// arguments (for the nested inputs of automations and webhooks). Fields starting with "_"
// and "back" are not arguments; "_done" is the notice on success.
func (d *Dashboard) act(w http.ResponseWriter, r *http.Request, v *visit) {
	back := localPath(r.FormValue("back"))
	e, ok := d.reg.Lookup(r.PathValue("tool"))
	if !ok {
		d.errorPage(w, r, http.StatusNotFound, "There is no action "+r.PathValue("tool")+". Go back and reload the page.")
		return
	}
	args, err := formArgs(e, r)
	if err != nil {
		d.redirect(w, r, back, flash{Error: true, Text: err.Error()})
		return
	}
	if _, cerr := e.Call(v.ctx(r), args); cerr != nil {
		d.redirect(w, r, back, flash{Error: true, Text: errorText(cerr)})
		return
	}
	done := r.FormValue("_done")
	if done == "" {
		done = "Done."
	}
	d.redirect(w, r, back, flash{Text: done})
}

// formArgs are the capability arguments a posted form holds.
func formArgs(e *tools.Entry, r *http.Request) (map[string]any, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("The form could not be read: %v.", err)
	}
	args := map[string]any{}
	if raw := strings.TrimSpace(r.PostForm.Get("_json")); raw != "" {
		m, err := tools.DecodeArgs([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("The JSON field is not a JSON object: %v.", err)
		}
		for k, val := range m {
			args[k] = val
		}
	}
	props, _ := e.InputSchema["properties"].(map[string]any)
	for name, values := range r.PostForm {
		if strings.HasPrefix(name, "_") || name == "back" {
			continue
		}
		prop, _ := props[name].(map[string]any)
		val, keep, err := formValue(name, prop, values)
		if err != nil {
			return nil, err
		}
		if keep {
			args[name] = val
		}
	}
	return args, nil
}

// formValue is one field's values as the argument its schema describes; keep is false for
// an empty field.
func formValue(name string, prop map[string]any, values []string) (val any, keep bool, err error) {
	typ, _ := prop["type"].(string)
	if t, ok := prop["type"].([]any); ok && len(t) > 0 { // ["string", "null"]
		typ, _ = t[0].(string)
	}
	first := strings.TrimSpace(values[0])
	switch typ {
	case "array":
		var items []any
		for _, v := range values {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					items = append(items, part)
				}
			}
		}
		return items, len(items) > 0, nil
	case "integer", "number":
		if first == "" {
			return nil, false, nil
		}
		var n json.Number
		if err := json.Unmarshal([]byte(first), &n); err != nil {
			return nil, false, fmt.Errorf("%s must be a number, not %q.", name, first)
		}
		return n, true, nil
	case "boolean":
		switch strings.ToLower(first) {
		case "":
			return nil, false, nil
		case "true", "on", "yes", "1":
			return true, true, nil
		case "false", "off", "no", "0":
			return false, true, nil
		}
		return nil, false, fmt.Errorf("%s must be true or false, not %q.", name, first)
	case "object":
		if first == "" {
			return nil, false, nil
		}
		m, err := tools.DecodeArgs([]byte(first))
		if err != nil {
			return nil, false, fmt.Errorf("%s must be a JSON object: %v.", name, err)
		}
		return m, true, nil
	}
	return first, first != "", nil
}

// call runs capability name as the visit's member and returns its result as JSON-shaped data.
func (d *Dashboard) call(r *http.Request, v *visit, name string, args map[string]any) (map[string]any, *tools.Error) {
	if args == nil {
		args = map[string]any{}
	}
	out, err := d.reg.CallJSON(v.ctx(r), name, args)
	if err != nil {
		if te, ok := err.(*tools.Error); ok {
			return nil, te
		}
		return nil, tools.Unexpected(err, "Something went wrong on our side. Retry shortly.")
	}
	return out, nil
}

// listData are the objects of a list result (none for nil).
func listData(list map[string]any) []map[string]any {
	if list == nil {
		return nil
	}
	return tools.ListData(list)
}
