package transfer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// ContactFields are the fields of a contact an import column can fill, as
// POST /v1/contacts/batch takes them; "metadata.KEY" fills one metadata key, and "metadata"
// takes a JSON object (as relm export writes it) merged into metadata.
var ContactFields = []string{"email", "first_name", "last_name", "phone", "company_id", "metadata"}

// headerAliases maps a normalised header (lower case, letters and digits only) to its field.
// The API takes a company by id only, so a company name goes into metadata.company.
var headerAliases = map[string]string{
	"email": "email", "emailaddress": "email", "mail": "email", "emailaddr": "email",
	"firstname": "first_name", "first": "first_name", "givenname": "first_name", "forename": "first_name",
	"lastname": "last_name", "last": "last_name", "surname": "last_name", "familyname": "last_name",
	"phone": "phone", "phonenumber": "phone", "mobile": "phone", "mobilephone": "phone", "mobilenumber": "phone",
	"cell": "phone", "cellphone": "phone", "telephone": "phone", "tel": "phone",
	"companyid": "company_id",
	"company":   "metadata.company", "companyname": "metadata.company", "organization": "metadata.company",
	"organisation": "metadata.company", "org": "metadata.company",
	"metadata": "metadata",
}

// normalize is a header as matched: lower case, letters and digits only ("E-mail" → "email").
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// metadataKey is the metadata key an unmapped column becomes with --metadata-columns: lower
// case, runs of other characters as one underscore ("Lead Source" → "lead_source").
func metadataKey(header string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(strings.TrimSpace(header)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
		} else {
			under = true
		}
	}
	return b.String()
}

// columnMap says what each column of a file fills: a field, "metadata.KEY", or "" (ignored).
type columnMap struct {
	Fields  []string // per column
	Ignored []string // headers of the ignored columns
}

// mapColumns decides each column's field: an explicit mapping (header → field, headers
// matched as normalize does; field "-" or "" ignores the column) first, then the aliases,
// then, with metadataColumns, metadata under the header's metadataKey.
func mapColumns(header []string, explicit map[string]string, metadataColumns bool) (columnMap, error) {
	m := columnMap{Fields: make([]string, len(header))}
	used := map[string]bool{}
	for col, field := range explicit {
		if field != "" && field != "-" && !validField(field) {
			return m, fmt.Errorf("--map %s=%s: %q is not a field of a contact (%s, metadata.KEY, or - to ignore the column)",
				col, field, field, strings.Join(ContactFields, ", "))
		}
		found := false
		for i, h := range header {
			if normalize(h) == normalize(col) {
				m.Fields[i], found = cmpOr(field, "-"), true
			}
		}
		if !found {
			return m, fmt.Errorf("--map %s=%s: the file has no column %q (columns: %s)", col, field, col, strings.Join(header, ", "))
		}
	}
	for i, h := range header {
		switch {
		case m.Fields[i] == "-":
			m.Fields[i] = ""
		case m.Fields[i] != "":
		case headerAliases[normalize(h)] != "":
			m.Fields[i] = headerAliases[normalize(h)]
		case metadataColumns && metadataKey(h) != "":
			m.Fields[i] = "metadata." + metadataKey(h)
		}
		if m.Fields[i] == "" {
			m.Ignored = append(m.Ignored, h)
			continue
		}
		if used[m.Fields[i]] {
			return m, fmt.Errorf("two columns fill %s (the second is %q): --map one of them to another field, or to - to ignore it", m.Fields[i], h)
		}
		used[m.Fields[i]] = true
	}
	return m, nil
}

func validField(f string) bool {
	if k, ok := strings.CutPrefix(f, "metadata."); ok {
		return k != ""
	}
	return slices.Contains(ContactFields, f)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// contactRow is one row of POST /v1/contacts/batch.
type contactRow struct {
	Email     string         `json:"email,omitempty"`
	FirstName string         `json:"first_name,omitempty"`
	LastName  string         `json:"last_name,omitempty"`
	Phone     string         `json:"phone,omitempty"`
	CompanyID string         `json:"company_id,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// contact builds the API row of a record. Blank values are left out, so an update never
// blanks a field the file does not fill. An error is the reason the row cannot be sent.
func (m columnMap) contact(fields []string) (contactRow, error) {
	var c contactRow
	for i, field := range m.Fields {
		v := strings.TrimSpace(fields[i])
		if field == "" || v == "" {
			continue
		}
		switch field {
		case "email":
			c.Email = v
		case "first_name":
			c.FirstName = v
		case "last_name":
			c.LastName = v
		case "phone":
			c.Phone = v
		case "company_id":
			c.CompanyID = v
		case "metadata":
			var md map[string]any
			if err := json.Unmarshal([]byte(v), &md); err != nil {
				return c, fmt.Errorf("invalid_metadata: the metadata column holds %q, not a JSON object", truncate(v, 40))
			}
			if c.Metadata == nil {
				c.Metadata = map[string]any{}
			}
			for k, x := range md {
				if _, set := c.Metadata[k]; !set {
					c.Metadata[k] = x
				}
			}
		default:
			if c.Metadata == nil {
				c.Metadata = map[string]any{}
			}
			c.Metadata[strings.TrimPrefix(field, "metadata.")] = v // a metadata.KEY column wins over the JSON column
		}
	}
	return c, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
