package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// query is one kind of request measured for latency.
type query struct {
	name, tool string
	args       func(r *rand.Rand) map[string]any
}

func (b *bench) queries() []query {
	pick := func(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
	return []query{
		{"search: a contact's first name", "search", func(r *rand.Rand) map[string]any {
			first, _ := personName(r)
			return map[string]any{"q": first, "limit": 20}
		}},
		{"search: first name + start of last name", "search", func(r *rand.Rand) map[string]any {
			first, last := personName(r)
			return map[string]any{"q": first + " " + last[:min(3, len(last))], "limit": 20}
		}},
		{"search: a very common first name (worst case)", "search", func(r *rand.Rand) map[string]any {
			return map[string]any{"q": pick(r, firstNames), "limit": 20}
		}},
		{"search: email fragment", "search", func(r *rand.Rand) map[string]any {
			e := pick(r, b.data.emails)
			return map[string]any{"q": e[strings.Index(e, ".")+1 : strings.Index(e, "@")], "limit": 20}
		}},
		{"search: company name, companies only", "search", func(r *rand.Rand) map[string]any {
			return map[string]any{"q": pick(r, lastNames) + " lab", "types": []string{"company"}, "limit": 20}
		}},
		{"list contacts by email", "list_contacts", func(r *rand.Rand) map[string]any { return map[string]any{"email": pick(r, b.data.emails)} }},
		{"list contacts by company", "list_contacts", func(r *rand.Rand) map[string]any {
			return map[string]any{"company_id": pick(r, b.data.companies), "limit": 50}
		}},
		{"list contacts, first page", "list_contacts", func(r *rand.Rand) map[string]any { return map[string]any{"limit": 50} }},
		{"list contacts by metadata plan", "list_contacts", func(r *rand.Rand) map[string]any {
			return map[string]any{"filter": map[string]any{"metadata->>plan": pick(r, plans)}, "limit": 50}
		}},
		{"list deals by stage and min value", "list_deals", func(r *rand.Rand) map[string]any {
			return map[string]any{"stage": pick(r, stages), "filter": map[string]any{"value_cents": map[string]any{"gte": r.IntN(9_000_000)}}, "limit": 50}
		}},
		{"list deals by company", "list_deals", func(r *rand.Rand) map[string]any { return map[string]any{"company_id": pick(r, b.data.companies)} }},
	}
}

// latencies runs each query kind many times with varying arguments and reports
// percentiles of the full capability call (validation, transaction, SQL, encoding).
func (b *bench) latencies(ctx context.Context) error {
	ctx, _, err := b.as(ctx, "bench")
	if err != nil {
		return err
	}
	b.rep.printf("## Search and list latency at %s contacts, in-process\n\n%d calls per row, each with different arguments, through the capability (what REST and MCP both run, without HTTP), one at a time.\n\n", thousands(b.opts.Contacts), b.opts.Queries)
	b.rep.printf("| query | p50 | p95 | p99 |\n| --- | --- | --- | --- |\n")
	r := rand.New(rand.NewPCG(5, 6))
	for _, q := range b.queries() {
		for range 5 { // warm up
			if _, err := b.call(ctx, q.tool, q.args(r)); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
		}
		times := make([]time.Duration, b.opts.Queries)
		for i := range times {
			args := q.args(r)
			start := time.Now()
			if _, err := b.call(ctx, q.tool, args); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			times[i] = time.Since(start)
		}
		slices.Sort(times)
		if q.tool == "search" {
			b.rep.searchP95 = max(b.rep.searchP95, ms(pct(times, 95)))
		}
		b.rep.printf("| %s | %s | %s | %s |\n", q.name, fmtMS(pct(times, 50)), fmtMS(pct(times, 95)), fmtMS(pct(times, 99)))
	}
	b.rep.mark("latency")
	b.rep.printf("\n")
	return nil
}

// pct is the p-th percentile of sorted durations (0 when there are none).
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fmtMS(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.2f ms", ms(d))
	}
	return fmt.Sprintf("%.1f ms", ms(d))
}
