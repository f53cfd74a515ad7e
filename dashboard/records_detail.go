package dashboard

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
)

// recordView is what the records template shows for one record.
type recordView struct {
	Kind     *kind
	ID       string
	Label    string
	Version  string
	Fields   []cell // every field, metadata keys last
	Metadata []cell
	Edit     []formField
	Error    string
}

// recordPage shows one record of kind k with all its fields, an edit form and a delete button.
func (d *Dashboard) recordPage(w http.ResponseWriter, r *http.Request, v *visit, k *kind) {
	id := r.PathValue("id")
	rec, err := d.call(r, v, k.Get, map[string]any{"id": id})
	if err != nil {
		d.renderAs(w, r, v, errStatus(err), "records", k.Key, k.Title,
			map[string]any{"Record": recordView{Kind: k, ID: id, Label: id, Error: errorText(err)}})
		return
	}
	rv := recordView{Kind: k, ID: id, Label: k.Label(rec), Version: str(rec["version"])}
	shown := map[string]bool{"metadata": true, "recent_activities": true, "associations": true, "object": true}
	for _, c := range k.Cols {
		rv.Fields = append(rv.Fields, cellOf(c, rec))
		shown[c.Field] = true
	}
	labels := map[string]string{}
	for _, f := range k.Fields {
		labels[f.Name] = f.Label
	}
	var rest []string
	for name := range rec {
		if !shown[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		c := column{Label: firstOf(labels[name], name), Field: name}
		if slices.Contains([]string{"created_at", "updated_at", "occurred_at"}, name) {
			c.Show = "when"
		}
		if to, ok := idLinks[name]; ok {
			c.Show = to
		}
		rv.Fields = append(rv.Fields, cellOf(c, rec))
	}
	meta, _ := rec["metadata"].(map[string]any)
	for _, key := range sortedKeys(meta) {
		rv.Metadata = append(rv.Metadata, cell{Label: key, Text: str(meta[key])})
	}
	for _, f := range k.Fields {
		if f.CreateOnly {
			continue
		}
		val := str(rec[f.Name])
		if f.Name == "metadata" {
			val = "" // keys merge: the form holds only changes
		}
		rv.Edit = append(rv.Edit, formField{input: f, Value: val})
	}
	d.renderAs(w, r, v, http.StatusOK, "records", k.Key, rv.Label, map[string]any{"Record": rv})
}

// editRecord changes a record with the edit form's fields: an emptied field is cleared
// (set to null) where the update capability allows it, and left as it is otherwise.
func (d *Dashboard) editRecord(w http.ResponseWriter, r *http.Request, v *visit, k *kind) {
	id := r.PathValue("id")
	back := "/" + k.Key + "/" + url.PathEscape(id)
	e, ok := d.reg.Lookup(k.Update)
	if !ok {
		d.errorPage(w, r, http.StatusNotFound, "There is no action "+k.Update+".")
		return
	}
	args, ferr := formArgs(e, r)
	if ferr != nil {
		d.redirect(w, r, back, flash{Error: true, Text: ferr.Error()})
		return
	}
	props, _ := e.InputSchema["properties"].(map[string]any)
	for _, f := range k.Fields {
		if _, posted := r.PostForm[f.Name]; !posted || f.Name == "metadata" {
			continue
		}
		if _, set := args[f.Name]; !set && nullable(props[f.Name]) {
			args[f.Name] = nil
		}
	}
	args["id"] = id
	if _, err := d.call(r, v, k.Update, args); err != nil {
		d.redirect(w, r, back, flash{Error: true, Text: errorText(err)})
		return
	}
	d.redirect(w, r, back, flash{Text: "Saved."})
}

// idLinks are the fields holding another record's id, to the kind that record is.
var idLinks = map[string]string{"company_id": "companies", "contact_id": "contacts", "primary_contact_id": "contacts", "deal_id": "deals"}

// nullable reports whether an input schema property takes null.
func nullable(prop any) bool {
	p, _ := prop.(map[string]any)
	types, _ := p["type"].([]any)
	return slices.Contains(types, any("null"))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
