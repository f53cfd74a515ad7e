package email

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Domain is a sending domain of a Resend account, as Resend returns it.
type Domain struct {
	ID   string
	Name string
	// Status is Resend's: not_started, pending, verified, partially_verified,
	// partially_failed, failed or temporary_failure.
	Status string
	Region string // us-east-1, eu-west-1, sa-east-1 or ap-northeast-1
	// CreatedAt is zero if Resend's timestamp is in a format this package does not know.
	CreatedAt time.Time
	// Records are the DNS records to publish; empty in ListDomains, which Resend returns
	// without them.
	Records []DNSRecord
}

// DNSRecord is one DNS record to publish for a domain.
type DNSRecord struct {
	Record string // what it is for: SPF, DKIM, Tracking; DMARC from DMARCRecord
	// Name is the record's host. Resend's are relative to the DNS zone ("send",
	// "resend._domainkey"); DMARCRecord's is the full name.
	Name     string
	Type     string // TXT, MX, CNAME
	TTL      string // "Auto" or seconds
	Status   string // not_started, pending, verified, failed or temporary_failure
	Value    string
	Priority *int // MX records only
}

// ListDomains returns every domain of apiKey's account, newest first (GET /domains).
func (c *Client) ListDomains(ctx context.Context, apiKey string) ([]Domain, error) {
	var all []Domain
	path := "/domains"
	for page := 0; ; page++ {
		var out struct {
			Data    []domainJSON `json:"data"`
			HasMore bool         `json:"has_more"`
		}
		if err := c.do(ctx, apiKey, call{method: http.MethodGet, path: path}, &out); err != nil {
			return nil, err
		}
		for _, d := range out.Data {
			all = append(all, d.domain())
		}
		if !out.HasMore || len(out.Data) == 0 {
			return all, nil
		}
		if page == maxDomainPages {
			return nil, fmt.Errorf("email: Resend listed more than %d pages of domains", maxDomainPages)
		}
		path = "/domains?limit=100&after=" + url.QueryEscape(out.Data[len(out.Data)-1].ID)
	}
}

// maxDomainPages bounds ListDomains' paging (Resend returns every domain in one page
// unless told otherwise; plans allow far fewer than 100 pages of them).
const maxDomainPages = 100

// CreateDomain adds the domain name to apiKey's account in region ("" means Resend's
// default, us-east-1) and returns it with the DNS records to publish (POST /domains).
func (c *Client) CreateDomain(ctx context.Context, apiKey, name, region string) (Domain, error) {
	in := struct {
		Name   string `json:"name"`
		Region string `json:"region,omitempty"`
	}{name, region}
	var out domainJSON
	if err := c.do(ctx, apiKey, call{method: http.MethodPost, path: "/domains", body: in}, &out); err != nil {
		return Domain{}, err
	}
	return out.domain(), nil
}

// GetDomain returns the domain id of apiKey's account with its records' current status
// (GET /domains/{id}).
func (c *Client) GetDomain(ctx context.Context, apiKey, id string) (Domain, error) {
	var out domainJSON
	if err := c.do(ctx, apiKey, call{method: http.MethodGet, path: "/domains/" + url.PathEscape(id)}, &out); err != nil {
		return Domain{}, err
	}
	return out.domain(), nil
}

// VerifyDomain asks Resend to check the domain's DNS records again (POST
// /domains/{id}/verify) and returns the domain as it is then. Resend checks
// asynchronously, so the status is usually "pending" at first; GetDomain later shows the
// outcome. If the second request fails, the check has still been started.
func (c *Client) VerifyDomain(ctx context.Context, apiKey, id string) (Domain, error) {
	path := "/domains/" + url.PathEscape(id)
	if err := c.do(ctx, apiKey, call{method: http.MethodPost, path: path + "/verify"}, nil); err != nil {
		return Domain{}, err
	}
	return c.GetDomain(ctx, apiKey, id)
}

// DMARCRecord is the DMARC record to publish for domain, which Resend does not return: a
// monitoring policy (p=none), the starting point Resend recommends. It asks receivers to
// change nothing about mail that fails SPF and DKIM alignment, so it cannot stop legitimate
// mail, and it gives the domain the DMARC record Gmail and Yahoo require of bulk senders.
// Once all of the domain's mail passes, move to p=quarantine, then p=reject, and add
// rua=mailto:<address> to receive aggregate reports.
func DMARCRecord(domain string) DNSRecord {
	return DNSRecord{
		Record: "DMARC",
		Name:   "_dmarc." + strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), "."),
		Type:   "TXT",
		TTL:    "Auto",
		Value:  "v=DMARC1; p=none;",
	}
}

// domainJSON is a domain as Resend's API writes it.
type domainJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Status    string       `json:"status"`
	Region    string       `json:"region"`
	CreatedAt string       `json:"created_at"`
	Records   []recordJSON `json:"records"`
}

// recordJSON is a DNS record as Resend's API writes it; ttl and priority have been seen
// both as strings and as numbers.
type recordJSON struct {
	Record   string          `json:"record"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	TTL      json.RawMessage `json:"ttl"`
	Status   string          `json:"status"`
	Value    string          `json:"value"`
	Priority json.RawMessage `json:"priority"`
}

func (d domainJSON) domain() Domain {
	out := Domain{
		ID:        d.ID,
		Name:      d.Name,
		Status:    d.Status,
		Region:    d.Region,
		CreatedAt: parseTimestamp(d.CreatedAt),
	}
	for _, r := range d.Records {
		rec := DNSRecord{
			Record: r.Record,
			Name:   r.Name,
			Type:   r.Type,
			TTL:    scalar(r.TTL),
			Status: r.Status,
			Value:  r.Value,
		}
		if n, err := strconv.Atoi(scalar(r.Priority)); err == nil {
			rec.Priority = &n
		}
		out.Records = append(out.Records, rec)
	}
	return out
}

// scalar is a JSON string or number as text; "" for anything else.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// timestampLayouts are the forms of created_at: PostgreSQL's text form, which Resend
// returns ("2026-04-26 20:21:26.347412+00"), and RFC 3339.
var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
}

func parseTimestamp(s string) time.Time {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
