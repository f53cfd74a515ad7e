package dashboard

// kind describes one type of record for the shared list and detail pages: its capabilities,
// the columns of its list, the filters its list capability takes, and its form's fields.
type kind struct {
	Key    string // path and navigation entry, such as contacts
	One    string // a record, as search names it: contact
	Title  string // Contacts
	Name   string // the heading of the column naming the records
	List   string // capabilities
	Get    string
	Create string
	Update string
	Delete string
	Label  func(rec map[string]any) string // a record's name
	Cols   []column
	// Filters are list arguments read from the query; a filter with Like goes into the
	// filter argument as a case-insensitive "contains".
	Filters []input
	Fields  []input // the create and edit form
	// Related are lists of other kinds filtered to a record: label, then path before its id.
	Related [][2]string
}

// column is one column of a list: a record field, shown as text, a time or a link.
type column struct {
	Label, Field string
	Show         string // "" (text), "when", "money", or a kind's Key to link the id to
}

// input is one field of a form.
type input struct {
	Name, Label string
	Type        string   // input type: text, email, date, number; "select" takes Options; "textarea"
	Options     []string // for a select
	Like        bool     // a filter matching part of the text
	Required    bool
	CreateOnly  bool   // not on the edit form
	Hint        string // said under the field
}

const metadataHint = `A JSON object, such as {"tier": "gold"}. On edit, keys merge into the record's; a key set to null is removed.`

var activityTypes = []string{"note", "email", "call", "meeting", "task"}

// kinds are the four record types, by Key.
var kinds = map[string]*kind{
	"contacts": {Key: "contacts", One: "contact", Title: "Contacts", Name: "Name",
		List: "list_contacts", Get: "get_contact", Create: "create_contact", Update: "update_contact", Delete: "delete_contact",
		Label: func(c map[string]any) string {
			return firstOf(join2(str(c["first_name"]), str(c["last_name"])), str(c["email"]))
		},
		Cols: []column{{"Email", "email", ""}, {"Phone", "phone", ""}, {"Company", "company_id", "companies"}, {"Created", "created_at", "when"}},
		Filters: []input{{Name: "first_name", Label: "First name contains", Like: true}, {Name: "last_name", Label: "Last name contains", Like: true},
			{Name: "email", Label: "Email", Type: "email"}, {Name: "company_id", Label: "Company id (cmp_…)"}},
		Fields: []input{{Name: "first_name", Label: "First name"}, {Name: "last_name", Label: "Last name"},
			{Name: "email", Label: "Email", Type: "email"}, {Name: "phone", Label: "Phone", Type: "tel"},
			{Name: "company_id", Label: "Company id (cmp_…)"}, {Name: "metadata", Label: "Custom fields", Type: "textarea", Hint: metadataHint}},
		Related: [][2]string{{"Activities", "/activities?contact_id="}},
	},
	"companies": {Key: "companies", One: "company", Title: "Companies", Name: "Name",
		List: "list_companies", Get: "get_company", Create: "create_company", Update: "update_company", Delete: "delete_company",
		Label:   func(c map[string]any) string { return firstOf(str(c["name"]), str(c["domain"])) },
		Cols:    []column{{"Domain", "domain", ""}, {"Created", "created_at", "when"}},
		Filters: []input{{Name: "name", Label: "Name contains", Like: true}, {Name: "domain", Label: "Domain"}},
		Fields: []input{{Name: "name", Label: "Name", Required: true}, {Name: "domain", Label: "Domain"},
			{Name: "metadata", Label: "Custom fields", Type: "textarea", Hint: metadataHint}},
		Related: [][2]string{{"Contacts", "/contacts?company_id="}, {"Deals", "/deals?company_id="}, {"Activities", "/activities?company_id="}},
	},
	"deals": {Key: "deals", One: "deal", Title: "Deals", Name: "Title",
		List: "list_deals", Get: "get_deal", Create: "create_deal", Update: "update_deal", Delete: "delete_deal",
		Label: func(c map[string]any) string { return str(c["title"]) },
		Cols: []column{{"Value", "value_cents", "money"}, {"Pipeline", "pipeline", ""}, {"Stage", "stage", ""},
			{"Company", "company_id", "companies"}, {"Close date", "close_date", ""}},
		Filters: []input{{Name: "title", Label: "Title contains", Like: true}, {Name: "pipeline", Label: "Pipeline key"},
			{Name: "stage", Label: "Stage key"}, {Name: "company_id", Label: "Company id (cmp_…)"}},
		Fields: []input{{Name: "title", Label: "Title", Required: true},
			{Name: "value_cents", Label: "Value in cents", Type: "number", Hint: "1250000 is 12,500.00."},
			{Name: "currency", Label: "Currency", Hint: "ISO 4217, such as USD (the default)."},
			{Name: "pipeline", Label: "Pipeline key", CreateOnly: true, Hint: "Empty: the default pipeline."},
			{Name: "stage", Label: "Stage key", CreateOnly: true, Hint: "Empty: the pipeline's first stage. Move deals on the deal board."},
			{Name: "close_date", Label: "Close date", Type: "date"}, {Name: "company_id", Label: "Company id (cmp_…)"},
			{Name: "primary_contact_id", Label: "Primary contact id (con_…)"},
			{Name: "metadata", Label: "Custom fields", Type: "textarea", Hint: metadataHint}},
		Related: [][2]string{{"Activities", "/activities?deal_id="}},
	},
	"activities": {Key: "activities", One: "activity", Title: "Activities", Name: "Subject",
		List: "list_activities", Get: "get_activity", Create: "log_activity", Update: "update_activity", Delete: "delete_activity",
		Label: func(c map[string]any) string { return firstOf(str(c["subject"]), str(c["type"])) },
		Cols: []column{{"Type", "type", ""}, {"Occurred", "occurred_at", "when"}, {"Contact", "contact_id", "contacts"},
			{"Deal", "deal_id", "deals"}, {"Company", "company_id", "companies"}},
		Filters: []input{{Name: "subject", Label: "Subject contains", Like: true},
			{Name: "type", Label: "Type", Type: "select", Options: activityTypes}, {Name: "contact_id", Label: "Contact id (con_…)"},
			{Name: "deal_id", Label: "Deal id (deal_…)"}, {Name: "company_id", Label: "Company id (cmp_…)"}},
		Fields: []input{{Name: "type", Label: "Type", Type: "select", Options: activityTypes, Required: true},
			{Name: "subject", Label: "Subject"}, {Name: "body", Label: "Body", Type: "textarea"},
			{Name: "occurred_at", Label: "Occurred at", Hint: "RFC 3339, such as 2026-03-01T14:00:00Z; empty on create: now."},
			{Name: "contact_id", Label: "Contact id (con_…)", Hint: "An activity is about a contact, a deal or a company: give at least one."},
			{Name: "deal_id", Label: "Deal id (deal_…)"}, {Name: "company_id", Label: "Company id (cmp_…)"}, {Name: "metadata", Label: "Custom fields", Type: "textarea", Hint: metadataHint}},
	},
}

// firstOf is the first non-empty text.
func firstOf(texts ...string) string {
	for _, t := range texts {
		if t != "" {
			return t
		}
	}
	return "(unnamed)"
}

// join2 joins two parts of a name with a space, leaving out empty ones.
func join2(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " " + b
}
