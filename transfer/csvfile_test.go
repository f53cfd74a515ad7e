package transfer

import (
	"strconv"
	"strings"
	"testing"
)

// TestReadTable: the delimiter is found in the header line only, outside quotes; a BOM is
// dropped; quoted cells keep delimiters, quotes and newlines; rows of another length and
// unreadable ones are set aside with their line.
func TestReadTable(t *testing.T) {
	for name, c := range map[string]struct {
		in    string
		comma rune
		rows  string // "|" between cells, "/" between rows
		bad   string // "line: error" per malformed row, "/" between
	}{
		"comma":           {"a,b\n1,2\n", ',', "1|2", ""},
		"semicolon":       {"\uFEFFa;b\n1;2,5\n", ';', "1|2,5", ""},
		"tab":             {"a\tb\tc;d\n1\t2\t3\n", '\t', "1|2|3", ""},
		"quoted header":   {"\"a;b\",c\n1,2\n", ',', "1|2", ""},
		"quoted newline":  {"a,b\n\"x\ny\",\"say \"\"hi\"\"\"\n3,4\n", ',', "x\ny|say \"hi\"/3|4", ""},
		"crlf and blanks": {"a,b\r\n1,2\r\n,\r\n\r\n3,4\r\n", ',', "1|2/3|4", ""},
		"short and long":  {"a,b\n1\n2,3\n4,5,6\n", ',', "2|3", "2: malformed_row: 1 fields where the header has 2/4: malformed_row: 3 fields where the header has 2"},
		"bare quote":      {"a,b\nx\"y,2\n", ',', "x\"y|2", ""},
	} {
		tb, err := readTable([]byte(c.in), 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var rows, bad []string
		for _, r := range tb.Rows {
			rows = append(rows, strings.Join(r.Fields, "|"))
		}
		for _, r := range tb.Malformed {
			bad = append(bad, strconv.Itoa(r.Line)+": "+r.Err)
		}
		if tb.Comma != c.comma || strings.Join(rows, "/") != c.rows || strings.Join(bad, "/") != c.bad {
			t.Errorf("%s: comma %q rows %q malformed %q", name, tb.Comma, rows, bad)
		}
	}
	for _, in := range []string{"", "\uFEFF", "a,b\n\xff\xfe,1\n"} {
		if _, err := readTable([]byte(in), 0); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

// TestMapColumns: aliases whatever the spelling, --map first, unknown columns ignored or
// into metadata, and the mistakes a user can make named.
func TestMapColumns(t *testing.T) {
	header := []string{"E-Mail Address", "FIRST_NAME", "Surname", "Mobile", "Organisation", "Lead Source", "Notes", "Work Phone"}
	m, err := mapColumns(header, map[string]string{"work phone": "phone", "mobile": "metadata.mobile", "NOTES": "-"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Fields, ","); got != "email,first_name,last_name,metadata.mobile,metadata.company,,,phone" {
		t.Fatalf("fields %q", got)
	}
	if strings.Join(m.Ignored, ",") != "Lead Source,Notes" {
		t.Fatalf("ignored %q", m.Ignored)
	}
	m, err = mapColumns(header, map[string]string{"mobile": "-"}, true)
	if err != nil || strings.Join(m.Fields, ",") != "email,first_name,last_name,,metadata.company,metadata.lead_source,metadata.notes,metadata.work_phone" {
		t.Fatalf("%q %v", m.Fields, err)
	}
	for explicit, want := range map[string]string{
		"Notes=nickname":  `"nickname" is not a field of a contact`,
		"Fax=phone":       `the file has no column "Fax"`,
		"Notes=email":     "two columns fill email",
		"Notes=metadata.": `"metadata." is not a field`,
	} {
		col, field, _ := strings.Cut(explicit, "=")
		if _, err := mapColumns(header, map[string]string{col: field}, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--map %s: %v, want %q", explicit, err, want)
		}
	}
	c, err := m.contact([]string{" a@x.io ", "", "Lovelace", "", "Engines", "", "", ""})
	if err != nil || c.Email != "a@x.io" || c.FirstName != "" || c.LastName != "Lovelace" || len(c.Metadata) != 1 || c.Metadata["company"] != "Engines" {
		t.Fatalf("%+v %v", c, err)
	}
}

// FuzzReadTable: any input is read or refused without panicking, and every record read is
// either a row of the header's width or set aside.
func FuzzReadTable(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\uFEFFa;b\n\"x\ny\";2\n", "a\tb\n\"unterminated\n", "a,b\n1\n1,2,3\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := readTable(data, 0)
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if len(r.Fields) != len(tb.Header) || r.Line < 2 {
				t.Fatalf("row %+v under header %q", r, tb.Header)
			}
		}
	})
}
