package dashboard

import (
	"encoding/json"
	"net/http"

	"github.com/relmcrm/relm/auth"
)

func (d *Dashboard) routeKeys(mux *http.ServeMux) {
	mux.Handle("GET /api-keys", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.keysPage(w, r, v, nil) }))
	mux.Handle("POST /api-keys", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.createKey(w, r, v) }))
	mux.Handle("POST /api-keys/revoke", d.member(func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.revokeKey(w, r, v) }))
}

// keysOfMode are one mode's keys as list_api_keys returns them.
type keysOfMode struct {
	Mode  auth.Mode
	Keys  []map[string]any
	Error string
}

// keysPage lists the live and test keys; created is a key just made, shown once.
func (d *Dashboard) keysPage(w http.ResponseWriter, r *http.Request, v *visit, created map[string]any) {
	var modes []keysOfMode
	for _, m := range []auth.Mode{auth.Live, auth.Test} {
		k := keysOfMode{Mode: m}
		list, err := d.call(r, v.in(m), "list_api_keys", map[string]any{"limit": json.Number("200")})
		if err != nil {
			k.Error = errorText(err)
		}
		k.Keys = listData(list)
		modes = append(modes, k)
	}
	if created != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	d.render(w, r, v, "keys", "API keys", map[string]any{"Modes": modes, "New": created, "Manage": v.canManage()})
}

// createKey makes a key in the chosen mode and shows its secret this once.
func (d *Dashboard) createKey(w http.ResponseWriter, r *http.Request, v *visit) {
	mode, ok := auth.ParseMode(r.FormValue("mode"))
	if !ok {
		d.redirect(w, r, "/api-keys", flash{Error: true, Text: "Choose the key's mode: live or test."})
		return
	}
	e, _ := d.reg.Lookup("create_api_key")
	args, ferr := formArgs(e, r)
	if ferr != nil {
		d.redirect(w, r, "/api-keys", flash{Error: true, Text: ferr.Error()})
		return
	}
	delete(args, "mode")
	key, err := d.call(r, v.in(mode), "create_api_key", args)
	if err != nil {
		d.redirect(w, r, "/api-keys", flash{Error: true, Text: errorText(err)})
		return
	}
	d.keysPage(w, r, v, key)
}

func (d *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request, v *visit) {
	mode, ok := auth.ParseMode(r.FormValue("mode"))
	if !ok {
		d.redirect(w, r, "/api-keys", flash{Error: true, Text: "The key's mode is missing. Reload the page and try again."})
		return
	}
	if _, err := d.call(r, v.in(mode), "revoke_api_key", map[string]any{"id": r.FormValue("id")}); err != nil {
		d.redirect(w, r, "/api-keys", flash{Error: true, Text: errorText(err)})
		return
	}
	d.redirect(w, r, "/api-keys", flash{Text: "Key revoked: it stopped working at once."})
}
