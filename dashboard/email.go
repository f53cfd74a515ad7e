package dashboard

import (
	"encoding/json"
	"net/http"

	"github.com/relmcrm/relm/auth"
)

var _ = page("GET /email", (*Dashboard).emailPage)

// emailPage shows the mode's Resend integration (or that none is connected), the live
// account's sending domains with their DNS records, and the emails sent recently.
func (d *Dashboard) emailPage(w http.ResponseWriter, r *http.Request, v *visit) {
	data := map[string]any{"Manage": v.canManage(), "Live": v.Mode == auth.Live}
	integration, err := d.call(r, v, "get_email_integration", nil)
	if err != nil {
		data["IntegrationError"] = errorText(err)
	}
	data["Integration"] = integration
	if v.Mode == auth.Live && integration != nil && integration["configured"] == true {
		domains, derr := d.call(r, v, "list_email_domains", map[string]any{"limit": json.Number("200")})
		if derr != nil {
			data["DomainsError"] = errorText(derr)
		}
		data["Domains"] = d.domainRecords(r, v, listData(domains))
	}
	args := map[string]any{"limit": json.Number("25")}
	q := r.URL.Query()
	if s := q.Get("status"); s != "" {
		args["status"] = s
	}
	if c := q.Get("cursor"); c != "" {
		args["cursor"] = c
	}
	emails, eerr := d.call(r, v, "list_emails", args)
	if eerr != nil {
		data["EmailsError"] = errorText(eerr)
	}
	data["Emails"], data["Status"] = emails, q.Get("status")
	d.render(w, r, v, "email", "Email", data)
}

// domainRecords fills in the DNS records of the first few domains, which Resend's list
// leaves out, from get_email_domain (on failure the listed domain stays as it was).
func (d *Dashboard) domainRecords(r *http.Request, v *visit, domains []map[string]any) []map[string]any {
	for i, dom := range domains[:min(len(domains), 10)] {
		if got, err := d.call(r, v, "get_email_domain", map[string]any{"id": dom["id"]}); err == nil {
			domains[i] = got
		}
	}
	return domains
}
