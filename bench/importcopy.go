package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// importComparison imports the same rows through batch_upsert_contacts (500 per call, with
// dedup on email and its events) and with a raw COPY, each into an empty workspace.
func (b *bench) importComparison(ctx context.Context) error {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]map[string]any, b.opts.ImportRows)
	for i := range rows {
		rows[i] = contactRow(r, "i", i)
	}
	// Start both runs from the same state; only a superuser or pg_checkpoint may.
	var held int
	if err := b.conn.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&held); err != nil {
		return err
	}
	if _, err := b.conn.Exec(ctx, "CHECKPOINT"); err != nil {
		b.log.Warn("no CHECKPOINT before the import comparison", "err", err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	batchCtx, _, err := b.as(ctx, "import-batch-"+run)
	if err != nil {
		return err
	}
	_, copyCaller, err := b.as(ctx, "import-copy-"+run)
	if err != nil {
		return err
	}
	importRows := func(rows []map[string]any) (time.Duration, error) {
		var bodies [][]byte // encoded first, as the requests' bodies would arrive
		for i := 0; i < len(rows); i += 500 {
			body, err := json.Marshal(map[string]any{"contacts": rows[i:min(i+500, len(rows))], "dedup_on": []string{"email"}})
			if err != nil {
				return 0, err
			}
			bodies = append(bodies, body)
		}
		start := time.Now()
		for _, body := range bodies {
			if _, err := b.callJSON(batchCtx, "batch_upsert_contacts", body); err != nil {
				return 0, fmt.Errorf("batch import: %w", err)
			}
		}
		return time.Since(start), nil
	}
	copyRows := func(rows []map[string]any) (time.Duration, error) {
		start := time.Now()
		if err := copyContacts(ctx, b.conn, copyCaller.WorkspaceID, rows, nil, r); err != nil {
			return 0, fmt.Errorf("copy: %w", err)
		}
		return time.Since(start), nil
	}
	// Half the rows each way, then the other half the other way round (capability, COPY,
	// COPY, capability): the table grows and the background work one run's writes start
	// (checkpoints, autovacuum) lands on both alike.
	var batch, raw time.Duration
	half := len(rows) / 2
	for _, step := range []struct {
		fn   func([]map[string]any) (time.Duration, error)
		rows []map[string]any
		sum  *time.Duration
	}{{importRows, rows[:half], &batch}, {copyRows, rows[:half], &raw}, {copyRows, rows[half:], &raw}, {importRows, rows[half:], &batch}} {
		d, err := step.fn(step.rows)
		if err != nil {
			return err
		}
		*step.sum += d
	}
	b.plans.logSpent(b.log, "batch import")
	batchRate, copyRate := float64(len(rows))/batch.Seconds(), float64(len(rows))/raw.Seconds()
	b.rep.batchVsCopy = ratio(batchRate, copyRate)
	b.rep.mark("import")
	b.rep.printf("## Batch import against raw COPY, in-process\n\n%s contacts, each path into a new workspace of the seeded database (whose table already held %s contacts), same rows, same table and indexes; "+
		"half of them each way, then the other half in the other order (capability, COPY, COPY, capability), so that the table's growth and the background work each run starts fall on both alike.\n\n",
		thousands(len(rows)), thousands(held))
	b.rep.printf("| path | time | rows/s |\n| --- | --- | --- |\n")
	b.rep.printf("| `POST /v1/contacts/batch` capability (500 rows per call, dedup on email, events recorded) | %s | %.0f |\n", batch.Round(time.Millisecond), batchRate)
	b.rep.printf("| raw `COPY` into `contacts` (no events) | %s | %.0f |\n\n", raw.Round(time.Millisecond), copyRate)
	b.rep.printf("Batch import runs at **%.2f×** raw COPY speed (target: at least 0.5×).\n\n", b.rep.batchVsCopy)
	return nil
}
