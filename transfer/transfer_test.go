package transfer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/transfer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// api is a running server on its own database and a way to make keys for it.
type api struct {
	t     *testing.T
	URL   string
	admin *store.Admin
}

func setup(t *testing.T) *api {
	t.Helper()
	s, admin, _ := pgtest.Open(t)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: server.NewSecretKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &api{t: t, URL: hs.URL, admin: admin}
}

// client is a client with a new test-mode key of the workspace.
func (a *api) client(workspace string) *transfer.Client {
	a.t.Helper()
	ws, _, err := a.admin.EnsureWorkspace(context.Background(), workspace)
	if err != nil {
		a.t.Fatal(err)
	}
	_, key, err := a.admin.CreateAPIKey(context.Background(), ws.ID, auth.Test)
	if err != nil {
		a.t.Fatal(err)
	}
	return &transfer.Client{URL: a.URL, Key: key}
}

// contacts lists every contact of c's workspace through the API, by email (or first name
// when it has none).
func contacts(t *testing.T, c *transfer.Client) map[string]map[string]any {
	t.Helper()
	var out bytes.Buffer
	if _, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "contacts"}, &out); err != nil {
		t.Fatal(err)
	}
	all := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		k, _ := rec["email"].(string)
		if k == "" {
			k = "name:" + rec["first_name"].(string)
		}
		k = strings.ToLower(k)
		for n := 2; all[k] != nil; n++ { // a second contact of the same name: name:ada#2
			k = fmt.Sprintf("%s#%d", strings.TrimSuffix(k, fmt.Sprintf("#%d", n-1)), n)
		}
		all[k] = rec
	}
	return all
}

// people is a CSV as a spreadsheet might save it: a byte order mark, ; between cells, a
// quoted newline, an email repeated in another case, an invalid email, a row without an
// email, a column no alias matches and a row with too few cells.
const people = "\uFEFFE-mail;First Name;Last name;Phone number;Company;Lead Source\r\n" +
	"ada@example.com;Ada;Lovelace;+14155550100;Analytical Engines;web\r\n" + // line 2
	"grace@example.com;Grace;\"Hopper\nNavy\";;;referral\r\n" + // lines 3-4
	"not-an-email;Bad;Row;;;web\r\n" + // line 5
	"ADA@example.com;Ada;King;;;event\r\n" + // line 6
	";Nameless;;;;\r\n" + // line 7
	"only;two\r\n" + // line 8
	";;;;;\r\n" // a blank row, skipped

// TestImportContacts imports a file with every difficulty, checks the summary, the
// contacts and the failed rows, then imports it again: the server replays its answers and
// nothing is written twice. With --metadata-columns (other keys), the unknown column lands
// in metadata and the rows upsert by email.
func TestImportContacts(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := a.client("acme")
	var progress bytes.Buffer
	res, err := c.ImportContacts(t.Context(), []byte(people), transfer.ImportOptions{Progress: &transfer.Progress{W: &progress}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 6 || res.Created != 3 || res.Updated != 1 || len(res.Failed) != 2 || res.NoEmail != 1 || res.Replayed != 0 {
		t.Fatalf("summary: %+v", res)
	}
	if strings.Join(res.Ignored, ",") != "Lead Source" || strings.Join(res.Columns, ",") != "email,first_name,last_name,phone,metadata.company," {
		t.Fatalf("columns %q, ignored %q", res.Columns, res.Ignored)
	}
	if !strings.Contains(progress.String(), "6/6 rows: 3 created, 1 updated, 2 failed\n") {
		t.Fatalf("progress:\n%s", progress.String())
	}
	var failed bytes.Buffer
	if err := res.WriteFailed(&failed); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&failed)
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], "|") != "line|E-mail|First Name|Last name|Phone number|Company|Lead Source|error" ||
		strings.Join(rows[1][:7], "|") != "5|not-an-email|Bad|Row|||web" || !strings.HasPrefix(rows[1][7], "validation_failed: email ") ||
		strings.Join(rows[2], "|") != "8|only|two|||||malformed_row: 2 fields where the header has 6" {
		t.Fatalf("failed rows: %q", rows)
	}

	got := contacts(t, c)
	ada, grace := got["ada@example.com"], got["grace@example.com"]
	if len(got) != 3 || ada == nil || grace == nil || got["name:nameless"] == nil {
		t.Fatalf("contacts: %v", got)
	}
	if ada["email"] != "ada@example.com" || ada["last_name"] != "King" || ada["phone"] != "+14155550100" ||
		fmt.Sprint(ada["metadata"]) != "map[company:Analytical Engines]" {
		t.Fatalf("the repeated email updates the same contact, blank cells clear nothing: %v", ada)
	}
	if grace["last_name"] != "Hopper\nNavy" || fmt.Sprint(grace["metadata"]) != "map[]" {
		t.Fatalf("grace: %v", grace)
	}

	again, err := c.ImportContacts(t.Context(), []byte(people), transfer.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Created != 3 || again.Updated != 1 || len(again.Failed) != 2 || again.Batches != 2 || again.Replayed != 2 {
		t.Fatalf("a re-run replays both calls (the batch and its retry without the bad row): %+v", again)
	}
	if after := contacts(t, c); fmt.Sprint(after) != fmt.Sprint(got) {
		t.Fatalf("a replayed import changed contacts:\n%v\n%v", got, after)
	}

	withMeta, err := c.ImportContacts(t.Context(), []byte(people), transfer.ImportOptions{MetadataColumns: true})
	if err != nil {
		t.Fatal(err)
	}
	if withMeta.Created != 1 || withMeta.Updated != 3 || withMeta.Replayed != 0 || len(withMeta.Ignored) != 0 {
		t.Fatalf("with metadata columns: %+v", withMeta)
	}
	got = contacts(t, c)
	if len(got) != 4 || got["name:nameless#2"] == nil || fmt.Sprint(got["ada@example.com"]["metadata"]) != "map[company:Analytical Engines lead_source:event]" ||
		fmt.Sprint(got["grace@example.com"]["metadata"]) != "map[lead_source:referral]" {
		t.Fatalf("metadata columns (the row without an email makes a second Nameless): %v", got)
	}
}

// TestExportRoundTrip exports more contacts than a page holds as JSON Lines and as CSV,
// checks that both hold every record as the API returns it, then imports the CSV into
// another workspace and exports that: the contacts are the same.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := a.client("acme")
	var in strings.Builder
	in.WriteString("email,first_name,last_name,phone,metadata\n")
	for i := range 450 {
		fmt.Fprintf(&in, "p%d@example.com,First%d,\"Smith, Jr.\",+1415555%04d,\"{\"\"n\"\":%d,\"\"vip\"\":%t}\"\n", i, i, i, i, i%3 == 0)
	}
	res, err := c.ImportContacts(t.Context(), []byte(in.String()), transfer.ImportOptions{BatchSize: 100})
	if err != nil || res.Created != 450 || res.Batches != 5 || len(res.Failed) != 0 {
		t.Fatalf("%+v %v", res, err)
	}

	var jsonl, table bytes.Buffer
	if n, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "contacts", PageSize: 200}, &jsonl); err != nil || n != 450 {
		t.Fatalf("jsonl: %d %v", n, err)
	}
	if n, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "contacts", Format: "csv", PageSize: 150}, &table); err != nil || n != 450 {
		t.Fatalf("csv: %d %v", n, err)
	}
	lines := strings.Split(strings.TrimSuffix(jsonl.String(), "\n"), "\n")
	rows, err := csv.NewReader(bytes.NewReader(table.Bytes())).ReadAll()
	if err != nil || len(lines) != 450 || len(rows) != 451 {
		t.Fatalf("%d lines, %d rows: %v", len(lines), len(rows), err)
	}
	want := "id,object,email,first_name,last_name,phone,company_id,metadata,mode,created_at,updated_at,version"
	if strings.Join(rows[0], ",") != want {
		t.Fatalf("csv header %q, want %q", rows[0], want)
	}
	ids := map[string]bool{}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		id := rec["id"].(string)
		if ids[id] {
			t.Fatalf("%s twice", id)
		}
		ids[id] = true
		md, _ := json.Marshal(rec["metadata"])
		row := rows[i+1]
		if row[0] != id || row[2] != rec["email"] || row[4] != "Smith, Jr." || row[6] != "" || row[7] != string(md) || row[8] != "test" || row[9] != rec["created_at"] {
			t.Fatalf("csv row %q does not hold the record %s", row, line)
		}
	}

	var filtered bytes.Buffer
	if n, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "contacts", Filters: []string{"filter[email][ilike]=p1%"}}, &filtered); err != nil || n != 111 {
		t.Fatalf("filtered export: %d %v", n, err)
	}

	other := a.client("globex")
	back, err := other.ImportContacts(t.Context(), table.Bytes(), transfer.ImportOptions{})
	if err != nil || back.Created != 450 || len(back.Failed) != 0 || strings.Join(back.Ignored, ",") != "id,object,mode,created_at,updated_at,version" {
		t.Fatalf("importing the export: %+v %v", back, err)
	}
	before, after := contacts(t, c), contacts(t, other)
	if len(after) != 450 {
		t.Fatalf("%d contacts after the round trip", len(after))
	}
	for email, rec := range before {
		got := after[email]
		for _, f := range []string{"email", "first_name", "last_name", "phone", "company_id", "metadata"} {
			if got == nil || fmt.Sprint(got[f]) != fmt.Sprint(rec[f]) {
				t.Fatalf("%s: %s is %v after the round trip, was %v", email, f, got[f], rec[f])
			}
		}
	}
}

// TestExportOtherLists exports companies, deals and activities as CSV, each with its own
// columns, id first.
func TestExportOtherLists(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := a.client("acme")
	post := func(path, body string) string {
		req, _ := http.NewRequest("POST", a.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.Key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var rec struct{ ID string }
		if err := json.NewDecoder(res.Body).Decode(&rec); err != nil || res.StatusCode != 201 {
			t.Fatalf("POST %s: %d %v", path, res.StatusCode, err)
		}
		return rec.ID
	}
	cmp := post("/v1/companies", `{"name":"Analytical Engines","domain":"engines.example"}`)
	deal := post("/v1/deals", `{"title":"Engine","value_cents":1500000,"company_id":"`+cmp+`"}`)
	post("/v1/activities", `{"type":"note","subject":"Line one\nline two","deal_id":"`+deal+`"}`)
	for resource, want := range map[string]string{
		"companies":  "id,object,name,domain,",
		"deals":      "id,object,title,value_cents,currency,",
		"activities": "id,object,type,subject,body,",
	} {
		var out bytes.Buffer
		if n, err := c.Export(t.Context(), transfer.ExportOptions{Resource: resource, Format: "csv"}, &out); err != nil || n != 1 {
			t.Fatalf("%s: %d %v", resource, n, err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil || len(rows) != 2 || !strings.HasPrefix(strings.Join(rows[0], ",")+",", want) {
			t.Fatalf("%s: %q %v", resource, rows, err)
		}
	}
	if _, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "pipelines"}, io.Discard); err == nil {
		t.Fatal("only record lists export")
	}
	var ae *transfer.APIError
	if _, err := c.Export(t.Context(), transfer.ExportOptions{Resource: "deals", Filters: []string{"filter[colour]=red"}}, io.Discard); !errors.As(err, &ae) || ae.Code != "invalid_filter" {
		t.Fatalf("an unknown filter field: %v", err)
	}
}
