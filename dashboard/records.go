package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
)

var _ = page("GET /contacts", (*Dashboard).contactsPage)

// contactsPage lists the contacts, newest first, a page at a time (cursor), optionally
// only those matching an email address.
func (d *Dashboard) contactsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	args := map[string]any{"limit": json.Number("50")}
	if c := r.FormValue("cursor"); c != "" {
		args["cursor"] = c
	}
	if q := strings.TrimSpace(r.FormValue("email")); q != "" {
		args["email"] = q
	}
	list, err := d.call(r, v, "list_contacts", args)
	data := map[string]any{"List": list, "Email": r.FormValue("email")}
	if err != nil {
		data["Error"] = errorText(err)
	}
	d.render(w, r, v, "contacts", "Contacts", data)
}
