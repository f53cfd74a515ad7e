package resendtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// regions are the regions Resend sends from.
var regions = []string{"us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"}

// domain is a sending domain of an account.
type domain struct {
	id, name, region, status string
	created                  time.Time
	records                  []record
}

// record is a DNS record as Resend writes it.
type record struct {
	Record   string `json:"record"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	TTL      string `json:"ttl"`
	Status   string `json:"status"`
	Value    string `json:"value"`
	Priority *int   `json:"priority,omitempty"`
}

// newDomain is a domain as Resend creates it: not_started, with the records Resend asks for
// (DKIM TXT, and for SPF an MX and a TXT record on the "send" return-path subdomain).
func newDomain(name, region string, now time.Time) *domain {
	key := make([]byte, 162) // the length of a 1024-bit RSA public key in DER
	rand.Read(key)
	ten := 10
	d := &domain{id: newID(), name: name, region: region, created: now, records: []record{
		{Record: "DKIM", Name: "resend._domainkey", Type: "TXT", TTL: "Auto", Value: "p=" + base64.StdEncoding.EncodeToString(key)},
		{Record: "SPF", Name: "send", Type: "MX", TTL: "Auto", Value: "feedback-smtp." + region + ".amazonses.com", Priority: &ten},
		{Record: "SPF", Name: "send", Type: "TXT", TTL: "Auto", Value: "v=spf1 include:amazonses.com ~all"},
	}}
	d.setStatus("not_started")
	return d
}

func (d *domain) setStatus(status string) {
	d.status = status
	for i := range d.records {
		d.records[i].Status = status
	}
}

// summary is the domain as GET /domains lists it, without records.
func (d *domain) summary() map[string]any {
	return map[string]any{
		"id":         d.id,
		"name":       d.name,
		"status":     d.status,
		"created_at": d.created.UTC().Format("2006-01-02 15:04:05.000000-07"),
		"region":     d.region,
		"capabilities": map[string]string{
			"sending":   "enabled",
			"receiving": "disabled",
		},
	}
}

// full is the domain as GET /domains/{id} and POST /domains return it.
func (d *domain) full() map[string]any {
	m := d.summary()
	m["object"] = "domain"
	m["records"] = d.records
	return m
}

// listDomains is GET /domains: all of the account's domains, newest first, or a page of
// them with limit and after.
func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, k *apiKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := k.account.domains
	if after := r.URL.Query().Get("after"); after != "" {
		i := slices.IndexFunc(all, func(d *domain) bool { return d.id == after })
		all = all[i+1:] // i is -1 for an unknown id: the whole list
	}
	limit := len(all)
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusUnprocessableEntity, "validation_error", "The `limit` parameter must be between 1 and 100.")
			return
		}
		limit = min(n, len(all))
	}
	data := []map[string]any{}
	for _, d := range all[:limit] {
		data = append(data, d.summary())
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "has_more": limit < len(all), "data": data})
}

// createDomain is POST /domains.
func (s *Server) createDomain(w http.ResponseWriter, r *http.Request, k *apiKey) {
	var in struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "validation_error", "The request body must be a JSON object.")
		return
	}
	name := strings.ToLower(strings.TrimSpace(in.Name))
	region := in.Region
	if region == "" {
		region = "us-east-1"
	}
	switch {
	case name == "":
		writeError(w, http.StatusUnprocessableEntity, "missing_required_field", "Missing `name` field.")
		return
	case !domainName.MatchString(name):
		writeError(w, http.StatusUnprocessableEntity, "validation_error", "The `name` field must be a valid domain name.")
		return
	case !slices.Contains(regions, region):
		writeError(w, http.StatusUnprocessableEntity, "invalid_region", `Region must be "us-east-1" | "eu-west-1" | "sa-east-1" | "ap-northeast-1".`)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] {
		writeError(w, http.StatusForbidden, "validation_error", fmt.Sprintf("The %s domain has been registered already.", name))
		return
	}
	d := newDomain(name, region, time.Now())
	k.account.domains = append([]*domain{d}, k.account.domains...)
	s.names[name] = true
	writeJSON(w, http.StatusOK, d.full())
}

// domainName is a host name with at least two labels.
var domainName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// getDomain is GET /domains/{id}.
func (s *Server) getDomain(w http.ResponseWriter, r *http.Request, k *apiKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := findDomain(w, r, k); d != nil {
		writeJSON(w, http.StatusOK, d.full())
	}
}

// verifyDomain is POST /domains/{id}/verify. Resend checks the records asynchronously
// (pending, then verified or, after 72 hours, failed); the fake decides at once, by
// SetDNSPublished.
func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, k *apiKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := findDomain(w, r, k)
	if d == nil {
		return
	}
	if s.dnsAbsent[d.name] {
		d.setStatus("failed")
	} else {
		d.setStatus("verified")
	}
	writeJSON(w, http.StatusOK, map[string]string{"object": "domain", "id": d.id})
}

// uuid is the form of Resend's ids.
var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// findDomain returns the account's domain named by the path's id, or writes Resend's error
// and returns nil. s.mu is held.
func findDomain(w http.ResponseWriter, r *http.Request, k *apiKey) *domain {
	id := strings.ToLower(r.PathValue("id"))
	if !uuid.MatchString(id) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_parameter", "The `id` must be a valid UUID.")
		return nil
	}
	for _, d := range k.account.domains {
		if d.id == id {
			return d
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "Domain not found")
	return nil
}
