package tools

import (
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// idKind is one kind of id: the kind of record it names (a key of kindNames) and the
// prefix store.NewID gives it. An id is the prefix and 26 characters of a-z and 2-7.
type idKind struct {
	kind, prefix string
}

// idKinds lists every kind of id: the one place tools read their prefixes, most from the
// store table of the kind, and derive their patterns.
var idKinds = []idKind{
	{store.Contacts.Kind, store.Contacts.Prefix},
	{store.Companies.Kind, store.Companies.Prefix},
	{store.Deals.Kind, store.Deals.Prefix},
	{store.Activities.Kind, store.Activities.Prefix},
	{store.Associations.Kind, store.Associations.Prefix},
	{store.Events.Kind, store.Events.Prefix},
	{store.RequestLogs.Kind, store.RequestLogs.Prefix},
	{"custom_field", "fld_"},
	{"api_key", "key_"},
	{"oauth_grant", "oag_"},
	{store.WebhookEndpoints.Kind, store.WebhookEndpoints.Prefix},
	{store.WebhookDeliveries.Kind, store.WebhookDeliveries.Prefix},
	{store.Emails.Kind, store.Emails.Prefix},
	{store.Automations.Kind, store.Automations.Prefix},
	{"sandbox", store.SandboxPrefix},
	{"request", "req_"}, // the Request-Id the server gives every request
}

// idBody is the pattern of what follows an id's prefix (see store.NewID).
const idBody = `[a-z2-7]{26}`

// idPattern is the pattern of an id of one of kinds: ^con_[a-z2-7]{26}$ for one kind,
// ^(con|cmp)_[a-z2-7]{26}$ for several.
func idPattern(kinds ...string) string {
	if len(kinds) == 1 {
		return "^" + idPrefix(kinds[0]) + idBody + "$"
	}
	stems := make([]string, len(kinds))
	for i, k := range kinds {
		stems[i] = strings.TrimSuffix(idPrefix(k), "_")
	}
	return "^(" + strings.Join(stems, "|") + ")_" + idBody + "$"
}

// idPrefix is the prefix of ids of kind; it panics for a kind missing from idKinds (a bug).
func idPrefix(kind string) string {
	for _, k := range idKinds {
		if k.kind == kind {
			return k.prefix
		}
	}
	panic("tools: no id kind " + kind)
}

// kindOfPattern is the kind of record an id pattern (^con_[a-z2-7]{26}$) names, or "".
func kindOfPattern(pattern string) string {
	for _, k := range idKinds {
		if pattern == idPattern(k.kind) {
			return k.kind
		}
	}
	return ""
}

// idSchema is the schema of an id of one of kinds.
func idSchema(kinds ...string) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Pattern: idPattern(kinds...)}
}

// Ids as input fields take these types, whose schemas require the kind's prefix and shape.
type (
	ContactID         string
	CompanyID         string
	DealID            string
	ActivityID        string
	AssociationID     string
	EventID           string
	CustomFieldID     string
	APIKeyID          string
	OAuthGrantID      string
	WebhookEndpointID string
	WebhookDeliveryID string
	EmailID           string
	AutomationID      string
	SandboxID         string
	// RecordID is the id of a contact, company, deal or activity (see RecordKinds).
	RecordID string
)

func (ContactID) Schema(huma.Registry) *huma.Schema         { return idSchema("contact") }
func (CompanyID) Schema(huma.Registry) *huma.Schema         { return idSchema("company") }
func (DealID) Schema(huma.Registry) *huma.Schema            { return idSchema("deal") }
func (ActivityID) Schema(huma.Registry) *huma.Schema        { return idSchema("activity") }
func (AssociationID) Schema(huma.Registry) *huma.Schema     { return idSchema("association") }
func (EventID) Schema(huma.Registry) *huma.Schema           { return idSchema("event") }
func (CustomFieldID) Schema(huma.Registry) *huma.Schema     { return idSchema("custom_field") }
func (APIKeyID) Schema(huma.Registry) *huma.Schema          { return idSchema("api_key") }
func (OAuthGrantID) Schema(huma.Registry) *huma.Schema      { return idSchema("oauth_grant") }
func (WebhookEndpointID) Schema(huma.Registry) *huma.Schema { return idSchema("webhook_endpoint") }
func (WebhookDeliveryID) Schema(huma.Registry) *huma.Schema { return idSchema("webhook_delivery") }
func (EmailID) Schema(huma.Registry) *huma.Schema           { return idSchema("email") }
func (AutomationID) Schema(huma.Registry) *huma.Schema      { return idSchema("automation") }
func (SandboxID) Schema(huma.Registry) *huma.Schema         { return idSchema("sandbox") }
func (RecordID) Schema(huma.Registry) *huma.Schema          { return idSchema(store.RecordKinds...) }

// idPtr is p as a plain *string, as the store takes ids.
func idPtr[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

// setID sets column to the id v holds (nil for null) when v was given.
func setID[T ~string](set map[string]any, column string, v schemas.Nullable[T]) {
	if v.Set {
		set[column] = idPtr(v.Ptr())
	}
}
