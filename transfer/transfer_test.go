package transfer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
