package tools

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/store"
)

// EmailDomain is a sending domain of the workspace's Resend account, with the DNS records
// to publish for it.
type EmailDomain struct {
	ID        string      `json:"id" doc:"Resend's id for the domain."`
	Object    string      `json:"object" enum:"email_domain" doc:"Always \"email_domain\"."`
	Name      string      `json:"name"`
	Status    string      `json:"status" doc:"Resend's verification status: not_started, pending, verified, failed, temporary_failure."`
	Region    string      `json:"region"`
	CreatedAt *time.Time  `json:"created_at"`
	Records   []DNSRecord `json:"records" doc:"The DNS records to publish: Resend's SPF and DKIM records, and a DMARC recommendation (Resend does not return one)."`
}

// DNSRecord is one DNS record a sending domain needs.
type DNSRecord struct {
	Record   string `json:"record" doc:"What it is for: SPF, DKIM, DMARC."`
	Name     string `json:"name"`
	Type     string `json:"type" doc:"TXT, MX, CNAME."`
	TTL      string `json:"ttl"`
	Status   string `json:"status" doc:"Resend's check of the record; \"recommended\" for the DMARC record, which Resend does not check."`
	Value    string `json:"value"`
	Priority *int   `json:"priority,omitempty"`
}

// AddEmailDomainInput adds a sending domain.
type AddEmailDomainInput struct {
	Name   string `json:"name" format:"hostname" minLength:"3" maxLength:"253" doc:"The domain to send from, such as mail.example.com."`
	Region string `json:"region,omitempty" enum:"us-east-1,eu-west-1,sa-east-1,ap-northeast-1" doc:"Where Resend sends from (default us-east-1)."`
}

// EmailDomainIDInput names one domain.
type EmailDomainIDInput struct {
	ID string `json:"id" pattern:"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" doc:"Resend's id for the domain, a UUID (from list_email_domains or add_email_domain)."`
}

// EmailDomains is a page of the account's domains.
type EmailDomains struct {
	Object     string        `json:"object" enum:"list" doc:"Always \"list\"."`
	Data       []EmailDomain `json:"data" doc:"The domains of this page, in Resend's order."`
	HasMore    bool          `json:"has_more" doc:"Whether another page follows."`
	NextCursor *string       `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// ListEmailDomainsInput pages the account's domains.
type ListEmailDomainsInput struct {
	WholeListPage
}

func domainOut(d email.Domain) EmailDomain {
	out := EmailDomain{ID: d.ID, Object: "email_domain", Name: d.Name, Status: d.Status, Region: d.Region, Records: []DNSRecord{}}
	if !d.CreatedAt.IsZero() {
		at := d.CreatedAt.UTC()
		out.CreatedAt = &at
	}
	for _, r := range append(d.Records, email.DMARCRecord(d.Name)) {
		out.Records = append(out.Records, DNSRecord{Record: r.Record, Name: r.Name, Type: r.Type, TTL: r.TTL, Status: r.Status, Value: r.Value, Priority: r.Priority})
	}
	return out
}

// withAccount runs fn with the live integration's Resend API key, refusing test mode (its
// keys never reach Resend) and a missing integration with what to do.
func (h emailHandlers) withAccount(ctx context.Context, fn func(svc *EmailServices, key string) error) error {
	c, err := callerOf(ctx)
	if err != nil {
		return err
	}
	if c.Mode != auth.Live {
		return NewError(CodeIntegrationRequired, "Sending domains belong to the Resend account and are managed with a live key: test mode never contacts Resend.")
	}
	integ, err := h.integration(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return NewError(CodeIntegrationRequired, "No Resend account is connected in this mode. Connect one with set_email_integration (PUT /v1/integrations/email).")
	}
	if err != nil {
		return err
	}
	if integ.Access == "sending_only" {
		return NewError(CodeIntegrationRequired, sendingOnlyKey)
	}
	svc, key, err := h.apiKey(ctx, c, integ)
	if err != nil {
		return err
	}
	return fn(svc, key)
}

func (h emailHandlers) listDomains(ctx context.Context, in ListEmailDomainsInput) (EmailDomains, error) {
	out := EmailDomains{Object: "list"}
	var all []EmailDomain
	err := h.withAccount(ctx, func(svc *EmailServices, key string) error {
		ds, err := svc.Resend.ListDomains(ctx, key)
		for _, d := range ds {
			all = append(all, domainOut(d))
		}
		return resendFailure(err, "")
	})
	if err != nil {
		return out, err
	}
	out.Data, out.HasMore, out.NextCursor, err = pageWhole(ctx, in.WholeListPage, all, func(d EmailDomain) string { return d.ID })
	return out, err
}

func (h emailHandlers) addDomain(ctx context.Context, in AddEmailDomainInput) (EmailDomain, error) {
	var out EmailDomain
	err := h.withAccount(ctx, func(svc *EmailServices, key string) error {
		d, err := svc.Resend.CreateDomain(ctx, key, in.Name, in.Region)
		out = domainOut(d)
		return resendFailure(err, "name")
	})
	return out, err
}

func (h emailHandlers) getDomain(ctx context.Context, in EmailDomainIDInput) (EmailDomain, error) {
	var out EmailDomain
	err := h.withAccount(ctx, func(svc *EmailServices, key string) error {
		d, err := svc.Resend.GetDomain(ctx, key, in.ID)
		out = domainOut(d)
		return resendFailure(err, "id")
	})
	return out, err
}

func (h emailHandlers) verifyDomain(ctx context.Context, in EmailDomainIDInput) (EmailDomain, error) {
	var out EmailDomain
	err := h.withAccount(ctx, func(svc *EmailServices, key string) error {
		if _, err := svc.Resend.VerifyDomain(ctx, key, in.ID); err != nil {
			return resendFailure(err, "id")
		}
		d, err := svc.Resend.GetDomain(ctx, key, in.ID)
		out = domainOut(d)
		return resendFailure(err, "id")
	})
	return out, err
}

// resendFailure is resendError for a possibly nil error.
func resendFailure(err error, param string) error {
	if err == nil {
		return nil
	}
	return resendError(err, param)
}

func emailDomainTools(h emailHandlers) []Tool {
	return []Tool{
		&Capability[ListEmailDomainsInput, EmailDomains]{Info: Info{
			Name: "list_email_domains", Title: "List email domains", Toolset: "email",
			Description: "List the sending domains of the connected Resend account (live mode, full-access key), each with its " +
				"verification status and DNS records. Returns {data, has_more, next_cursor}: up to 200 domains a page (limit), " +
				"then page with cursor.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/email/domains", Status: http.StatusOK},
		}, Handle: h.listDomains},
		&Capability[AddEmailDomainInput, EmailDomain]{Info: Info{
			Name: "add_email_domain", Title: "Add email domain", Toolset: "email",
			Description: "Add the sending domain name to the connected Resend account (live mode, full-access key). Returns the domain " +
				"with the DNS records to publish (SPF, DKIM and a DMARC recommendation); then call verify_email_domain.",
			Annotations: Annotations{OpenWorld: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/email/domains", Status: http.StatusCreated},
		}, Handle: h.addDomain},
		&Capability[EmailDomainIDInput, EmailDomain]{Info: Info{
			Name: "get_email_domain", Title: "Get email domain", Toolset: "email",
			Description: "Fetch one sending domain of the Resend account by its id. Returns the domain with the current status of each DNS record.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/email/domains/{id}", Status: http.StatusOK},
		}, Handle: h.getDomain},
		&Capability[EmailDomainIDInput, EmailDomain]{Info: Info{
			Name: "verify_email_domain", Title: "Verify email domain", Toolset: "email",
			Description: "Ask Resend to check the DNS records of the domain with id now (after publishing them). Returns the domain with its status; " +
				"verification can take a while, so call get_email_domain later if it is still pending.",
			Annotations: Annotations{Idempotent: true, OpenWorld: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/email/domains/{id}/verify", Status: http.StatusOK},
		}, Handle: h.verifyDomain},
	}
}
