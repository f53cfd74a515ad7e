package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/auth"
)

// cell is one operation × surface × concurrency of the load matrix.
type cell struct {
	op, surface string
	conns       int
}

// overHTTP starts `relm serve` as a child process on the seeded database and measures every
// operation on every surface at every concurrency, the transactions each request costs,
// and the server's memory.
func (b *bench) overHTTP(ctx context.Context) (err error) {
	srv, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	idle, _, err := srv.memoryMiB()
	if err != nil {
		return err
	}
	keyID, key, err := b.admin.CreateAPIKey(ctx, b.data.workspace, auth.Live)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.admin.RevokeAPIKey(context.WithoutCancel(ctx), keyID)) }()
	c := newClient(srv.url, key)
	defer c.close()

	ops := b.operations()
	results := map[cell]result{}
	for _, conns := range b.opts.Conns {
		raw, err := b.openRaw(ctx, conns)
		if err != nil {
			return err
		}
		for i, op := range ops {
			for _, s := range []string{surfaceRaw, surfaceREST, surfaceMCP} {
				res, err := closedLoop(ctx, conns, b.opts.Duration, uint64(i), b.surfaceCall(c, raw, op, s))
				if err != nil {
					raw.Close()
					return fmt.Errorf("%s over %s, %d connections: %w", op.name, s, conns, err)
				}
				results[cell{op.name, s, conns}] = res
				b.log.Info("measured", "op", op.name, "surface", s, "conns", conns, "req/s", int(res.throughput()), "p50", res.p50, "p99", res.p99)
			}
		}
		raw.Close()
	}
	xacts, err := b.transactionsPerRequest(ctx, c, ops[0])
	if err != nil {
		return err
	}
	rss, peak, err := srv.memoryMiB()
	if err != nil {
		return err
	}
	b.rep.rssIdleMiB, b.rep.rssPeakMiB = idle, peak
	b.writeLoadTables(ops, results)
	b.writeTransactions(xacts)
	b.rep.printf("## Memory of the server process\n\nFrom `/proc/PID/status` of the `relm serve` child process.\n\n")
	b.rep.printf("| measurement | MiB | target |\n| --- | --- | --- |\n")
	b.rep.printf("| VmRSS idle, after start on the seeded database | %.0f | < 100 |\n", idle)
	b.rep.printf("| VmRSS after the load runs | %.0f | |\n", rss)
	b.rep.printf("| VmHWM, the peak, over the load runs | %.0f | < 300 |\n\n", peak)
	b.rep.mark("http")
	return nil
}

// surfaceCall is op on surface s.
func (b *bench) surfaceCall(c *client, raw *pgxpool.Pool, op operation, s string) call {
	switch s {
	case surfaceREST:
		return c.rest(op)
	case surfaceMCP:
		return c.mcp(op)
	}
	return func(ctx context.Context, r *rand.Rand) error { return op.raw(ctx, raw, op.args(r)) }
}

// writeLoadTables writes one table per operation: each surface at each concurrency, with
// REST and MCP beside raw SQL, and MCP's latency beside REST's; and notes the target values.
func (b *bench) writeLoadTables(ops []operation, results map[cell]result) {
	b.rep.printf("## Throughput and latency over HTTP\n\n")
	b.rep.printf("A real `relm serve` (a child process, rate limits and quotas lifted) on the seeded workspace, one live API key. "+
		"Each cell is a closed loop: every connection sends its next request as soon as the last is answered, for %s after a %s warm-up. "+
		"*raw SQL* is the same work as statements sent straight to PostgreSQL over a pgx pool of as many connections, as the table owner. "+
		"*× raw* is the throughput against raw SQL at the same concurrency; *MCP ÷ REST* is MCP's p50 latency against REST's.\n\n",
		b.opts.Duration, warmup(b.opts.Duration))
	b.rep.restVsRaw = map[string]ratioAt{}
	b.rep.mcpVsREST = ratioAt{}
	for _, op := range ops {
		b.rep.printf("### %s\n\n| conns | surface | req/s | p50 | p99 | × raw | MCP ÷ REST (p50) |\n| --- | --- | --- | --- | --- | --- | --- |\n", op.name)
		for _, conns := range b.opts.Conns {
			raw, rest, mcp := results[cell{op.name, surfaceRaw, conns}], results[cell{op.name, surfaceREST, conns}], results[cell{op.name, surfaceMCP, conns}]
			restRatio, mcpRatio := ratio(rest.throughput(), raw.throughput()), ratio(mcp.throughput(), raw.throughput())
			mcpVsREST := ratio(float64(mcp.p50), float64(rest.p50))
			where := fmt.Sprintf("%d conns", conns)
			if v, ok := b.rep.restVsRaw[op.name]; !ok || restRatio < v.value {
				b.rep.restVsRaw[op.name] = ratioAt{restRatio, where}
			}
			if mcpVsREST > b.rep.mcpVsREST.value {
				b.rep.mcpVsREST = ratioAt{mcpVsREST, op.name + ", " + where}
			}
			b.rep.printf("| %d | %s | %.0f | %s | %s | | |\n", conns, surfaceRaw, raw.throughput(), fmtMS(raw.p50), fmtMS(raw.p99))
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | |\n", conns, surfaceREST, rest.throughput(), fmtMS(rest.p50), fmtMS(rest.p99), restRatio)
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | %.2f× |\n", conns, surfaceMCP, mcp.throughput(), fmtMS(mcp.p50), fmtMS(mcp.p99), mcpRatio, mcpVsREST)
		}
		if op.rows > 0 {
			b.rep.printf("\nEach request writes %d contacts: rows/s is %d × req/s.\n", op.rows, op.rows)
		}
		b.rep.printf("\n")
	}
}

// xactCount is the number of transactions the database has committed or rolled back, as
// far as the statistics show yet.
func (b *bench) xactCount(ctx context.Context) (int64, error) {
	var n int64
	err := b.conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}

// statsSettle is how long to wait for idle backends to flush their statistics (at most once
// a second since PostgreSQL 15).
const statsSettle = 1500 * time.Millisecond

// xactResult is the database transactions per request of one surface.
type xactResult struct {
	surface  string
	conns    int
	requests int
	perReq   float64
}

// transactionsPerRequest counts the database's transactions (pg_stat_database) during a
// run of op on each surface, less the background rate measured while idle (the server's
// job queue polls), per request.
func (b *bench) transactionsPerRequest(ctx context.Context, c *client, op operation) ([]xactResult, error) {
	conns := b.opts.Conns[len(b.opts.Conns)-1]
	if slices.Contains(b.opts.Conns, 16) {
		conns = 16
	}
	raw, err := b.openRaw(ctx, conns)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	settle := func() error {
		select {
		case <-time.After(statsSettle):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Background: transactions while nothing is sent.
	if err := settle(); err != nil {
		return nil, err
	}
	x0, err := b.xactCount(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := settle(); err != nil {
		return nil, err
	}
	x1, err := b.xactCount(ctx)
	if err != nil {
		return nil, err
	}
	background := float64(x1-x0-1) / time.Since(start).Seconds() // less the first count's own transaction
	var out []xactResult
	for _, s := range []string{surfaceRaw, surfaceREST, surfaceMCP} {
		x0, err := b.xactCount(ctx)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		times, err := loop(ctx, conns, b.opts.Duration, 99, b.surfaceCall(c, raw, op, s))
		if err != nil {
			return nil, fmt.Errorf("transactions per request, %s: %w", s, err)
		}
		if err := settle(); err != nil {
			return nil, err
		}
		x1, err := b.xactCount(ctx)
		if err != nil {
			return nil, err
		}
		own := float64(x1-x0-1) - background*time.Since(start).Seconds()
		out = append(out, xactResult{surface: s, conns: conns, requests: len(times), perReq: max(own, 0) / float64(max(len(times), 1))})
	}
	return out, nil
}

func (b *bench) writeTransactions(xs []xactResult) {
	b.rep.printf("## Database transactions per request\n\n"+
		"`%s`, counted in `pg_stat_database` (xact_commit + xact_rollback) over a run of %s on each surface, "+
		"less the background rate measured while idle, divided by the requests. Each transaction is at least one round trip to PostgreSQL.\n\n"+
		"| surface | conns | requests | transactions per request |\n| --- | --- | --- | --- |\n", opGet, b.opts.Duration)
	for _, x := range xs {
		b.rep.printf("| %s | %d | %d | %.2f |\n", x.surface, x.conns, x.requests, x.perReq)
	}
	b.rep.printf("\n")
}
