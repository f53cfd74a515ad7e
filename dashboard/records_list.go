package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The record pages: a list, a record, and its edit form, for each kind.
var _ = routeRecords()

func routeRecords() bool {
	for _, k := range kinds {
		page("GET /"+k.Key, func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.listPage(w, r, v, k) })
		page("GET /"+k.Key+"/{id}", func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.recordPage(w, r, v, k) })
		page("POST /"+k.Key+"/{id}", func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *visit) { d.editRecord(w, r, v, k) })
	}
	return true
}

const defaultPageSize = 25

// listView is what the records template shows for a list.
type listView struct {
	Kind     *kind
	Search   string
	Filters  []formField
	Filtered bool // some filter is set
	Limit    string
	Rows     []row
	Next     string // the next page's link, keeping the filters
	First    string // the first page's link, when this is a later one
	Create   []formField
	Error    string
}

// row is a record in a list.
type row struct {
	Href, Label string
	Cells       []cell
}

// cell is a value as shown, with a link when it names another record.
type cell struct {
	Label, Text, Href string
}

// formField is an input with its current value.
type formField struct {
	input
	Value string
}

// listPage lists records of kind k, newest first, a page at a time: filtered by the list
// capability's own arguments, or found by the search box.
func (d *Dashboard) listPage(w http.ResponseWriter, r *http.Request, v *visit, k *kind) {
	q := r.URL.Query()
	lv := listView{Kind: k, Search: strings.TrimSpace(q.Get("q")), Limit: q.Get("limit")}
	limit := json.Number(strconv.Itoa(defaultPageSize))
	if n, err := strconv.Atoi(lv.Limit); err == nil && n > 0 && n <= 200 {
		limit = json.Number(lv.Limit)
	}
	for _, f := range k.Filters {
		val := strings.TrimSpace(q.Get(f.Name))
		lv.Filtered = lv.Filtered || val != ""
		lv.Filters = append(lv.Filters, formField{input: f, Value: val})
	}
	for _, f := range k.Fields {
		lv.Create = append(lv.Create, formField{input: f})
	}
	name, args := k.List, listArgs(lv.Filters)
	if lv.Search != "" {
		name, args = "search", map[string]any{"q": lv.Search, "types": []any{k.One}}
	}
	args["limit"] = limit
	if c := q.Get("cursor"); c != "" {
		args["cursor"] = c
		first := url.Values{}
		for key, vals := range q {
			if key != "cursor" {
				first[key] = vals
			}
		}
		lv.First = "/" + k.Key + "?" + first.Encode()
	}
	list, err := d.call(r, v, name, args)
	if err != nil {
		lv.Error = errorText(err)
	}
	for _, rec := range listData(list) {
		if lv.Search != "" {
			rec, _ = rec["record"].(map[string]any)
		}
		lv.Rows = append(lv.Rows, rowOf(k, rec))
	}
	if list != nil && list["has_more"] == true {
		next := url.Values{}
		for key, vals := range q {
			next[key] = vals
		}
		next.Set("cursor", str(list["next_cursor"]))
		lv.Next = "/" + k.Key + "?" + next.Encode()
	}
	d.renderAs(w, r, v, http.StatusOK, "records", k.Key, k.Title, map[string]any{"List": lv})
}

// listArgs are the list capability's arguments for the filters' values: most are its own
// arguments; a Like filter is a case-insensitive "contains" in its filter argument.
func listArgs(filters []formField) map[string]any {
	args, like := map[string]any{}, map[string]any{}
	for _, f := range filters {
		switch {
		case f.Value == "":
		case f.Like:
			like[f.Name] = map[string]any{"ilike": "%" + likeEscaper.Replace(f.Value) + "%"}
		default:
			args[f.Name] = f.Value
		}
	}
	if len(like) > 0 {
		args["filter"] = like
	}
	return args
}

// likeEscaper makes text match itself in an ilike pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// rowOf is a record as a row of k's list.
func rowOf(k *kind, rec map[string]any) row {
	rw := row{Href: "/" + k.Key + "/" + url.PathEscape(str(rec["id"])), Label: k.Label(rec)}
	for _, c := range k.Cols {
		rw.Cells = append(rw.Cells, cellOf(c, rec))
	}
	return rw
}

// cellOf is one field of rec as column c shows it.
func cellOf(c column, rec map[string]any) cell {
	val := rec[c.Field]
	out := cell{Label: c.Label, Text: str(val)}
	switch c.Show {
	case "":
	case "when":
		out.Text = when(val)
	case "money":
		out.Text = money(val, str(rec["currency"]))
	default:
		if out.Text != "" {
			out.Href = "/" + c.Show + "/" + url.PathEscape(out.Text)
		}
	}
	return out
}

// money is an amount in minor units as "12,500.00 USD" ("" for none).
func money(cents any, currency string) string {
	n, err := strconv.ParseInt(str(cents), 10, 64)
	if err != nil {
		return str(cents)
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	units := strconv.FormatInt(n/100, 10)
	for i := len(units) - 3; i > 0; i -= 3 {
		units = units[:i] + "," + units[i:]
	}
	return strings.TrimSpace(sign + units + "." + strconv.FormatInt(100+n%100, 10)[1:] + " " + currency)
}
