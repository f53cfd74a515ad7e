package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/relmcrm/relm/transfer"
)

const importDoc = `Imports contacts from a CSV file through the API of a running server (it never opens the
database): POST /v1/contacts/batch in batches of up to 500 rows with dedup_on: ["email"], so
a row whose email (case-insensitively) exists updates that contact, and one that is new
creates it. Blank cells are left out: they never clear a field.

Columns: headers match whatever their case, spaces and punctuation. email (E-mail, Email
address, Mail), first_name (First name, Given name), last_name (Last name, Surname, Family
name), phone (Phone number, Mobile, Telephone), company_id (Company ID: the API links a company
by its id only, so Company, Company name and Organization go into metadata.company), and
metadata (a JSON object, as relm export writes it). --map "Column=field" maps others (field:
email, first_name, last_name, phone, company_id, metadata, metadata.KEY, or - to ignore the
column). Other columns are ignored, and the summary names them; --metadata-columns puts them
into metadata instead, keyed by the header in lower case with underscores (Lead Source →
lead_source), as text.

The file: UTF-8, with or without a byte order mark; delimiter , ; or tab, detected from the
header line (or --delimiter); quoted cells may hold the delimiter, quotes ("") and newlines.

Re-running is safe. Each call carries an Idempotency-Key made of a hash of the file, the
column mapping and the batch's place: within 24 hours (how long the server keeps keys) the
same file imported the same way replays the server's stored answers and writes nothing
again; later it upserts by email again, which changes nothing for rows already imported.
Rows without an email cannot be matched: each is created as a new contact, so re-running
after 24 hours creates them again (the summary counts them).

Rows that fail (an invalid email, a row with no email, name or phone, a row the CSV reader
cannot read, an unknown company_id…) do not stop the others: a batch the API refuses for
invalid rows is sent again without them. They are written to --failed (default
FILE.failed.csv, only when rows failed) with their line in the file, their columns and the
error (code: message); fix them there and import that file (its line and error columns are
ignored; with --metadata-columns add --map line=- --map error=-). The summary on stdout says
how many rows were created, updated and failed (the API does not tell an update that changed
nothing from one that changed something). Exit status 1 when a row failed.

Progress goes to stderr: a bar on a terminal, a line per batch otherwise. 429 answers are
waited out (Retry-After); 5xx answers and network errors are retried with backoff.`

var importExamples = []string{
	"relm import contacts people.csv --url http://127.0.0.1:8080 --key sk_test_…",
	`RELM_URL=https://crm.example.com RELM_API_KEY=sk_live_… relm import contacts export.csv --map "Work email=email" --map "Notes=-"`,
	"relm import contacts leads.csv --metadata-columns --failed leads-to-fix.csv",
}

const exportDoc = `Writes every record of a list (contacts, companies, deals or activities) through the API of a
running server (it never opens the database), paging with next_cursor until has_more is
false, to --out or stdout.

JSON Lines (the default; --format jsonl): one record per line, exactly as the API returns it.
CSV (--format csv, or an --out name ending in .csv): a header of the fields in the API's order
(id first), then a row per record; null is an empty cell, numbers and booleans are written as in
JSON, and metadata (and any other object or array) as JSON text. relm import contacts reads
such a file back (its email, name, phone, company_id and metadata columns).

--filter takes the list's filters as the query string does (docs/api.md, "Lists and
filters"), once per condition. Records are newest first. 429 answers are waited out
(Retry-After), 5xx answers and network errors retried with backoff. With --out the file appears
only when the whole export succeeded.`

var exportExamples = []string{
	"relm export contacts --url http://127.0.0.1:8080 --key sk_test_… > contacts.jsonl",
	"relm export deals --format csv --out deals.csv --filter 'filter[stage]=won' --filter 'filter[value_cents][gte]=100000'",
	"RELM_API_KEY=sk_live_… relm export activities --filter 'filter[occurred_at][gte]=2026-01-01' --out activities.jsonl",
}

// apiFlags are the flags of the commands that are clients of a running server.
type apiFlags struct{ url, key string }

func (a *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.url, "url", env("RELM_URL", "http://127.0.0.1:8080"), "base URL of the Relm server (RELM_URL)")
	fs.StringVar(&a.key, "key", env("RELM_API_KEY", ""), "API key of the workspace and mode to use, sk_live_… or sk_test_… (RELM_API_KEY)")
}

func (a *apiFlags) client() (*transfer.Client, error) {
	if a.key == "" {
		return nil, errors.New("an API key is needed: --key or RELM_API_KEY (relm keys create --workspace NAME --mode test makes one)")
	}
	return &transfer.Client{URL: a.url, Key: a.key}, nil
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// importCmd is `relm import contacts FILE.csv`.
func importCmd(ctx context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var af apiFlags
	af.register(fs)
	var maps repeated
	fs.Var(&maps, "map", "`Column=field`: what a column fills (email, first_name, last_name, phone, company_id, metadata, metadata.KEY, or - to ignore it); repeatable")
	metadataColumns := fs.Bool("metadata-columns", false, "put columns that are not mapped into metadata instead of ignoring them")
	delimiter := fs.String("delimiter", "", "the `character` between cells: , ; or tab (default: detected from the header line)")
	failed := fs.String("failed", "", "write the rows that failed to this CSV `file` (default: FILE.failed.csv)")
	batchSize := fs.Int("batch-size", transfer.BatchSize, "rows per call, at most 500")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 || rest[0] != "contacts" {
		return errors.New("usage: relm import contacts [flags] FILE.csv (contacts are what imports)")
	}
	opts := transfer.ImportOptions{MetadataColumns: *metadataColumns, BatchSize: *batchSize, Map: map[string]string{}}
	for _, m := range maps {
		col, field, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return fmt.Errorf("--map %q: want Column=field", m)
		}
		opts.Map[strings.TrimSpace(col)] = strings.TrimSpace(field)
	}
	switch *delimiter {
	case "":
	case ",", ";":
		opts.Comma = rune((*delimiter)[0])
	case "tab", `\t`, "\t":
		opts.Comma = '\t'
	default:
		return fmt.Errorf("--delimiter %q: , ; or tab", *delimiter)
	}
	if *batchSize < 1 || *batchSize > transfer.BatchSize {
		return fmt.Errorf("--batch-size must be from 1 to %d", transfer.BatchSize)
	}
	client, err := af.client()
	if err != nil {
		return err
	}
	path := rest[1]
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if *failed == "" {
		*failed = strings.TrimSuffix(path, filepath.Ext(path)) + ".failed.csv"
	}
	opts.Progress = transfer.NewProgress(os.Stderr)
	res, importErr := client.ImportContacts(ctx, data, opts)
	if res == nil {
		return importErr
	}
	if len(res.Failed) > 0 {
		if err := writeFailed(*failed, res); err != nil {
			return errors.Join(importErr, err)
		}
	}
	writeImportSummary(stdout, path, *failed, res)
	if importErr != nil {
		return fmt.Errorf("the import stopped: %w; running it again is safe", importErr)
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d of %d rows failed; they are in %s", len(res.Failed), res.Rows, *failed)
	}
	return nil
}

func writeFailed(path string, res *transfer.ImportResult) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteFailed(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeImportSummary(w io.Writer, path, failedPath string, res *transfer.ImportResult) {
	fmt.Fprintf(w, "%s: %d rows\n  created  %d\n  updated  %d\n  failed   %d", path, res.Rows, res.Created, res.Updated, len(res.Failed))
	if len(res.Failed) > 0 {
		fmt.Fprintf(w, " (in %s)", failedPath)
	}
	fmt.Fprintln(w)
	var mapped []string
	for i, f := range res.Columns {
		if f != "" {
			mapped = append(mapped, fmt.Sprintf("%s → %s", res.Header[i], f))
		}
	}
	fmt.Fprintf(w, "columns: %s\n", strings.Join(mapped, ", "))
	if len(res.Ignored) > 0 {
		fmt.Fprintf(w, "ignored columns: %s (--map them, or --metadata-columns to keep them in metadata)\n", strings.Join(res.Ignored, ", "))
	}
	if res.NoEmail > 0 {
		fmt.Fprintf(w, "rows without an email: %d (each created as a new contact; only a re-run within 24 hours replays them)\n", res.NoEmail)
	}
	if res.Replayed > 0 {
		fmt.Fprintf(w, "replayed: %d of %d calls answered from an earlier run of this file (nothing written again)\n", res.Replayed, res.Batches)
	}
}

// exportCmd is `relm export RESOURCE`.
func exportCmd(ctx context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var af apiFlags
	af.register(fs)
	format := fs.String("format", "", "jsonl or csv (default: csv when --out ends in .csv, else jsonl)")
	out := fs.String("out", "", "write to this `file` instead of stdout")
	var filters repeated
	fs.Var(&filters, "filter", "a list filter, `filter[field][op]=value`; repeatable")
	pageSize := fs.Int("page-size", 200, "records per page, at most 200")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("usage: relm export %s [flags]", strings.Join(transfer.Resources, "|"))
	}
	if *format == "" {
		*format = "jsonl"
		if strings.EqualFold(filepath.Ext(*out), ".csv") {
			*format = "csv"
		}
	}
	if *pageSize < 1 || *pageSize > 200 {
		return errors.New("--page-size must be from 1 to 200")
	}
	client, err := af.client()
	if err != nil {
		return err
	}
	opts := transfer.ExportOptions{Resource: rest[0], Format: *format, Filters: filters, PageSize: *pageSize}
	if *out == "" {
		_, err := client.Export(ctx, opts, stdout)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	n, err := client.Export(ctx, opts, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "exported %d %s to %s\n", n, opts.Resource, *out)
	return nil
}
