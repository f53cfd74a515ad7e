package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

// cell is one operation × surface × concurrency of the load matrix.
type cell struct {
	op, surface string
	conns       int
}

// overHTTP measures a real `relm serve` on the seeded workspace: every operation on every
// surface at every concurrency, the server's memory, and the transactions a request costs.
func (b *bench) overHTTP(ctx context.Context) (err error) {
	keyID, key, err := b.admin.CreateAPIKey(ctx, b.data.workspace, auth.Live)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.admin.RevokeAPIKey(context.WithoutCancel(ctx), keyID)) }()
	var ops []operation
	for _, op := range b.operations() {
		if len(b.opts.Ops) == 0 || slices.Contains(b.opts.Ops, op.tool) {
			ops = append(ops, op)
		}
	}
	if err := b.loadMatrix(ctx, key, ops); err != nil {
		return err
	}
	_, err = b.transactionsPerRequest(ctx, key, ops[0])
	return err
}

// surfaceOrder is the order of the surfaces in each cell's first round of runs; the next
// round runs them in reverse, and so on.
var surfaceOrder = []string{surfaceRaw, surfaceREST, surfaceMCP, surfaceBare, surfaceInProcess}

// runsPerCell is how many times each surface runs in a cell, each for that share of the
// cell's time. A cell's throughput and mean latency are the median of its runs', so that
// background work one run starts or falls on (a checkpoint, autovacuum of a grown table)
// does not decide the cell: with two runs, one burst in one run of MCP read as MCP at
// 1.33× REST's mean latency for a create at one connection, its p50 at 1.10×.
const runsPerCell = 4

// cellWarmup is how long each run of a cell of d runs unmeasured first: warmup of half the
// cell (a tenth of it, at most a second), as long as when a cell ran in two halves.
func cellWarmup(d time.Duration) time.Duration { return warmup(d / 2) }

// loadMatrix starts `relm serve` as a child process and runs every operation on every
// surface at every concurrency, reading the server's memory before and after.
func (b *bench) loadMatrix(ctx context.Context, key string, ops []operation) (err error) {
	ctx, _, err = b.as(ctx, "bench") // the caller of the in-process surface
	if err != nil {
		return err
	}
	in, err := b.openInProcess(ctx)
	if err != nil {
		return err
	}
	defer in.close()
	srv, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	idle, _, err := srv.memoryMiB()
	if err != nil {
		return err
	}
	bare, err := b.startBare(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, bare.stop()) }()
	c, cb := newClient(srv.url, key), newClient(bare.url, "")
	defer c.close()
	defer cb.close()
	results := map[cell]result{}
	for _, conns := range b.opts.Conns {
		for i, op := range ops {
			// Each surface runs runsPerCell times, in the order of surfaceOrder, then back,
			// and so on: what one run leaves behind (a checkpoint or autovacuum its writes
			// start, a larger table) then falls on every surface alike, not on the next.
			var order []string
			for round := range runsPerCell {
				next := slices.Clone(surfaceOrder)
				if round%2 == 1 {
					slices.Reverse(next)
				}
				order = append(order, next...)
			}
			for k, s := range order {
				on, client := srv, c
				if s == surfaceBare {
					on, client = bare, cb
				}
				res, err := b.measureCell(ctx, on, client, in.reg, op, s, conns, uint64(runsPerCell*i+k/len(surfaceOrder)), b.opts.Duration/runsPerCell)
				switch {
				case err != nil:
				case s == surfaceBare:
					err = cb.releaseBare(ctx)
				case s == surfaceInProcess:
					err = in.release(ctx)
				}
				if err != nil {
					return fmt.Errorf("%s over %s, %d connections: %w", op.name, s, conns, err)
				}
				key := cell{op.name, s, conns}
				if first, ok := results[key]; ok {
					res = merge(first, res)
				}
				if k >= len(order)-len(surfaceOrder) { // its last run
					b.log.Info("measured", "op", op.name, "surface", s, "conns", conns, "req/s", int(res.throughput()), "p50", res.p50, "p99", res.p99,
						"cpu µs/req", cpuCell(res, s != surfaceRaw && s != surfaceInProcess))
				}
				results[key] = res
			}
		}
	}
	rss, peak, err := srv.memoryMiB()
	if err != nil {
		return err
	}
	b.rep.rssIdleMiB, b.rep.rssPeakMiB = idle, peak
	floors, err := b.measureFloors(ctx, srv, c)
	if err != nil {
		return err
	}
	b.rep.mark("http")
	b.writeLoadTables(ops, results)
	b.writeFloors(ops[0].name, floors, results)
	b.writeCeilings(ops, floors, results)
	b.rep.printf("## Memory of the server process\n\nFrom `/proc/PID/status` of the `relm serve` child process of the runs above.\n\n")
	b.rep.printf("| measurement | MiB | target |\n| --- | --- | --- |\n")
	b.rep.printf("| VmRSS idle, after start on the seeded database | %.0f | < 100 |\n", idle)
	b.rep.printf("| VmRSS after the load runs | %.0f | |\n", rss)
	b.rep.printf("| VmHWM, the peak, over the load runs | %.0f | < 300 |\n\n", peak)
	return b.toolListSizes(ctx, c, b.reg.Toolsets())
}

// measureCell runs op on surface s in a closed loop of conns connections for d, with the
// CPU time of this process, the server srv (relm serve, or the bare server for its surface)
// and PostgreSQL. The raw pool is open only for its own run, so that it takes no
// connections from the servers.
func (b *bench) measureCell(ctx context.Context, srv *serverProcess, c *client, reg *tools.Registry, op operation, s string, conns int, seed uint64, d time.Duration) (result, error) {
	var raw *pgxpool.Pool
	if s == surfaceRaw {
		var err error
		if raw, err = b.openRaw(ctx, conns); err != nil {
			return result{}, err
		}
		defer raw.Close()
	}
	return closedLoop(ctx, conns, cellWarmup(b.opts.Duration), d, seed, b.surfaceCall(c, raw, reg, op, s), b.cpuProbe(srv))
}

// surfaceCall is op on surface s: over HTTP with c, on the raw pool raw, or in process on
// the capabilities reg.
func (b *bench) surfaceCall(c *client, raw *pgxpool.Pool, reg *tools.Registry, op operation, s string) call {
	switch s {
	case surfaceREST:
		return c.rest(op)
	case surfaceMCP:
		return c.mcp(op)
	case surfaceBare:
		return c.bare(op)
	case surfaceInProcess:
		return func(ctx context.Context, r *rand.Rand) error {
			args, err := json.Marshal(op.args(r)) // as a request's body brings them
			if err == nil {
				_, err = callOn(ctx, reg, op.tool, args)
			}
			return err
		}
	}
	return func(ctx context.Context, r *rand.Rand) error { return op.raw(ctx, raw, op.args(r)) }
}

// writeLoadTables writes one table per operation: each surface at each concurrency, with
// REST and MCP beside raw SQL, and MCP's latency beside REST's; and notes the target values.
func (b *bench) writeLoadTables(ops []operation, results map[cell]result) {
	b.rep.printf("## Throughput and latency over HTTP\n\n")
	b.rep.printf("A real `relm serve` (a child process, rate limits and quotas lifted) on the seeded workspace, one live API key. "+
		"Each cell is a closed loop: every connection sends its next request as soon as the last is answered, for %s in %d runs of each surface, each after a %s warm-up, "+
		"the surfaces in the order raw SQL, REST, MCP, bare HTTP, in process, then back, and again, so that what one run leaves behind falls on all alike. "+
		"*req/s* is the median of a surface's runs' throughputs, so that one run that background work fell on does not decide the cell; "+
		"p50, p99 and the CPU per request are over all its requests. "+
		"*raw SQL* is the same work as statements sent straight to PostgreSQL over a pgx pool of as many connections, as the table owner. "+
		"*bare HTTP* is the least a server could do (bench/bare.go): the raw SQL behind Go's net/http in a process of its own, without "+
		"authentication, metering, a request log, row-level security or encoding rows; its CPU column's middle figure is that process. "+
		"*in process* is the other half: the capability that REST and MCP call, called by the load generator in its own process "+
		"(bench/overhttp.go) through a store as `relm serve` opens it, so Relm's own work (validation, the tenant's settings and "+
		"row-level security, scanning and encoding the rows, events) without HTTP, authentication, metering or the request log; "+
		"its CPU column's first figure is that process, the load generator and the capability together. "+
		"*× raw* is the throughput against raw SQL at the same concurrency; *MCP ÷ REST* is MCP's latency against REST's: first the mean (the median of the runs' means), "+
		"the measure of the target (at a fixed concurrency a closed loop's mean latency is the connections over the throughput, "+
		"as the issue measured MCP at 1.7× REST), then the p50.\n\n",
		b.opts.Duration, runsPerCell, cellWarmup(b.opts.Duration))
	b.rep.restVsRaw = map[string]ratioAt{}
	b.rep.mcpVsREST, b.rep.mcpVsRESTp50 = ratioAt{}, ratioAt{}
	for _, op := range ops {
		b.rep.printf("### %s\n\n| conns | surface | req/s | p50 | p99 | × raw | MCP ÷ REST (mean · p50) | CPU µs per request: load generator, server, PostgreSQL |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n", op.name)
		for _, conns := range b.opts.Conns {
			raw, rest, mcp := results[cell{op.name, surfaceRaw, conns}], results[cell{op.name, surfaceREST, conns}], results[cell{op.name, surfaceMCP, conns}]
			restRatio, mcpRatio := ratio(rest.throughput(), raw.throughput()), ratio(mcp.throughput(), raw.throughput())
			mcpVsREST, mcpVsRESTp50 := ratio(float64(mcp.mean()), float64(rest.mean())), ratio(float64(mcp.p50), float64(rest.p50))
			where := fmt.Sprintf("%d conns", conns)
			if v, ok := b.rep.restVsRaw[op.name]; !ok || restRatio < v.value {
				b.rep.restVsRaw[op.name] = ratioAt{restRatio, where}
			}
			if mcpVsREST > b.rep.mcpVsREST.value {
				b.rep.mcpVsREST = ratioAt{mcpVsREST, op.name + ", " + where}
			}
			if mcpVsRESTp50 > b.rep.mcpVsRESTp50.value {
				b.rep.mcpVsRESTp50 = ratioAt{mcpVsRESTp50, op.name + ", " + where}
			}
			b.rep.printf("| %d | %s | %.0f | %s | %s | | | %s |\n", conns, surfaceRaw, raw.throughput(), fmtMS(raw.p50), fmtMS(raw.p99), cpuCell(raw, false))
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | | %s |\n", conns, surfaceREST, rest.throughput(), fmtMS(rest.p50), fmtMS(rest.p99), restRatio, cpuCell(rest, true))
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | %.2f× · %.2f× | %s |\n", conns, surfaceMCP, mcp.throughput(), fmtMS(mcp.p50), fmtMS(mcp.p99), mcpRatio,
				mcpVsREST, mcpVsRESTp50, cpuCell(mcp, true))
			bare := results[cell{op.name, surfaceBare, conns}]
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | | %s |\n", conns, surfaceBare, bare.throughput(), fmtMS(bare.p50), fmtMS(bare.p99),
				ratio(bare.throughput(), raw.throughput()), cpuCell(bare, true))
			in := results[cell{op.name, surfaceInProcess, conns}]
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | | %s |\n", conns, surfaceInProcess, in.throughput(), fmtMS(in.p50), fmtMS(in.p99),
				ratio(in.throughput(), raw.throughput()), cpuCell(in, false))
		}
		if op.rows > 0 {
			b.rep.printf("\nEach request writes %d contacts: rows/s is %d × req/s.\n", op.rows, op.rows)
		}
		b.rep.printf("\n")
	}
}

// cpuProbe reads the CPU time this process, the server srv and PostgreSQL have used.
func (b *bench) cpuProbe(srv *serverProcess) func() cpuUse {
	return func() cpuUse { return readCPU(srv.pid, b.pgPID) }
}

// cpuCell is the CPU time a request of r used in each party, in µs: the load generator,
// the server (— for raw SQL, which has none) and PostgreSQL.
func cpuCell(r result, server bool) string {
	srv := "—"
	if server {
		srv = r.cpuPerRequest(r.cpu.server)
	}
	return r.cpuPerRequest(r.cpu.gen) + " · " + srv + " · " + r.cpuPerRequest(r.cpu.pg)
}

// floor is a request that does no work of its own. No operation costs less than /readyz
// over HTTP, nor less than an empty statement straight to PostgreSQL.
type floor struct {
	name string // as the report shows it
	path string // over HTTP; "" for the empty statement on a raw pool
}

var (
	healthzFloor = floor{name: "`GET /healthz`", path: "/healthz"}                   // the middleware chain and HTTP alone
	readyzFloor  = floor{name: "`GET /readyz`", path: "/readyz"}                     // the same plus one empty round trip through the server's pool
	emptyFloor   = floor{name: "raw SQL: an empty statement (pgx `Ping`)", path: ""} // that round trip alone, as /readyz sends it
	floors       = []floor{healthzFloor, readyzFloor, emptyFloor}
)

// floorCell is one floor at one concurrency.
type floorCell struct {
	floor
	conns int
}

// measureFloors runs each floor at each concurrency in a closed loop.
func (b *bench) measureFloors(ctx context.Context, srv *serverProcess, c *client) (map[floorCell]result, error) {
	out := map[floorCell]result{}
	for _, conns := range b.opts.Conns {
		for _, f := range floors {
			res, err := b.measureFloor(ctx, srv, c, f, conns)
			if err != nil {
				return nil, fmt.Errorf("floor %s, %d connections: %w", f.name, conns, err)
			}
			out[floorCell{f, conns}] = res
			b.log.Info("measured", "floor", f.name, "conns", conns, "req/s", int(res.throughput()), "p50", res.p50, "cpu µs/req", cpuCell(res, f.path != ""))
		}
	}
	return out, nil
}

// measureFloor runs floor f at conns connections, the empty statement on a raw pool of its own.
func (b *bench) measureFloor(ctx context.Context, srv *serverProcess, c *client, f floor, conns int) (result, error) {
	fn := func(ctx context.Context, _ *rand.Rand) error {
		return c.send(ctx, "GET", f.path, "", nil, 200)
	}
	if f.path == "" {
		raw, err := b.openRaw(ctx, conns)
		if err != nil {
			return result{}, err
		}
		defer raw.Close()
		fn = func(ctx context.Context, _ *rand.Rand) error { return raw.Ping(ctx) }
	}
	return closedLoop(ctx, conns, warmup(b.opts.Duration), b.opts.Duration, 7, fn, b.cpuProbe(srv))
}

// writeFloors writes the floor table: what a request that does nothing costs, against the
// raw SQL of operation first (a point read) at the same concurrency.
func (b *bench) writeFloors(first string, fl map[floorCell]result, results map[cell]result) {
	b.rep.printf("### The floor: requests that do no work\n\n"+
		"The same server and client, on `GET /healthz` (the middleware chain and HTTP alone) and `GET /readyz` "+
		"(the same plus one empty round trip to PostgreSQL through the server's pool), and that empty round trip "+
		"alone, sent straight to PostgreSQL over a pgx pool of as many connections. No operation over HTTP "+
		"can cost less than `/readyz`; *× raw %s* compares each with the raw SQL of that operation at the same "+
		"concurrency.\n\n"+
		"| conns | request | req/s | p50 | p99 | × raw %s | CPU µs per request: load generator, server, PostgreSQL |\n"+
		"| --- | --- | --- | --- | --- | --- | --- |\n", first, first)
	for _, conns := range b.opts.Conns {
		raw := results[cell{first, surfaceRaw, conns}]
		for _, f := range floors {
			r := fl[floorCell{f, conns}]
			b.rep.printf("| %d | %s | %.0f | %s | %s | %.2f× | %s |\n", conns, f.name, r.throughput(), fmtMS(r.p50), fmtMS(r.p99),
				ratio(r.throughput(), raw.throughput()), cpuCell(r, f.path != ""))
		}
	}
	b.rep.printf("\n")
}

// ceiling is the most *× raw* a request over HTTP can reach for an operation whose raw SQL
// measured raw, given the floor measured readyz and the empty statement empty at the same
// concurrency. Each is taken at its cost per request, the reciprocal of its throughput:
// the latency at one connection, the machine's time per request when the cores are busy.
// A request through the server costs at least what /readyz costs beyond the empty round
// trip (HTTP, the middleware, the server's pool), plus the raw statements' own cost, which
// includes a round trip. So on this machine no server, however lean, reaches more.
func ceiling(raw, readyz, empty result) float64 {
	cost := func(r result) float64 { return ratio(1, r.throughput()) }
	overHTTP := max(cost(readyz)-cost(empty), 0)
	return ratio(cost(raw), cost(raw)+overHTTP)
}

// bothCosts is the × raw of a request that pays two overheads over raw SQL's, each measured
// alone as a × raw (a and b): with costs as reciprocals of throughput and raw SQL's as 1,
// 1 ÷ (1/a + 1/b − 1). Zero when either is.
func bothCosts(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return 1 / (1/a + 1/b - 1)
}

// writeCeilings writes each operation's ceiling beside its REST × raw, and records the
// lowest ceiling of each operation for the targets: at each concurrency the higher of the
// modelled one and the bare server's, so that a target is called out of reach only when
// both say so.
func (b *bench) writeCeilings(ops []operation, fl map[floorCell]result, results map[cell]result) {
	b.rep.printf("### The ceiling: the most × raw any server could reach here\n\n" +
		"Two bounds, each generous. *Modelled*: a request over HTTP costs at least what `GET /readyz` costs beyond the empty round trip " +
		"(HTTP, the middleware, the server's pool), plus the raw statements of its operation. With each cost the reciprocal of a " +
		"throughput at the same concurrency (the latency at one connection; the machine's time per request when its cores are busy), " +
		"that is raw ÷ (raw + (`/readyz` − empty statement)). *Bare HTTP*: measured in the tables above, a server process that " +
		"does nothing but the operation's raw SQL behind Go's net/http (arguments from a JSON body, a pool as large as `relm serve` opens, " +
		"as the table owner, answering `{}`). Neither does a real server's own work (authentication, metering, the request log, " +
		"row-level security, encoding the rows), so REST's share of the ceiling is what that work leaves. The ceiling is a property " +
		"of the machine, not of Relm: where it is under a target, no server could meet that target on this machine while the load " +
		"generator, the server and PostgreSQL share its cores. Its inputs move about ±10%% between runs, so the targets call a target " +
		"out of reach only when the higher of the two bounds is more than 10%% under it.\n\n" +
		"*In process × raw* is the other factor, measured in the tables above: Relm's own work without HTTP. REST pays both, so it is " +
		"under each; *both* is what the two would leave together if their costs simply added up (the reciprocal of " +
		"1/bare + 1/in process − 1, with raw SQL as 1), a rough model to hold REST against.\n\n" +
		"| operation | conns | raw SQL req/s | modelled ceiling | bare HTTP × raw | in process × raw | both | REST × raw | REST's share of the ceiling |\n" +
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	b.rep.ceilings = map[string]ratioAt{}
	for _, op := range ops {
		for _, conns := range b.opts.Conns {
			raw, rest := results[cell{op.name, surfaceRaw, conns}], results[cell{op.name, surfaceREST, conns}]
			modelled := ceiling(raw, fl[floorCell{readyzFloor, conns}], fl[floorCell{emptyFloor, conns}])
			measured := ratio(results[cell{op.name, surfaceBare, conns}].throughput(), raw.throughput())
			c := max(modelled, measured)
			restRatio := ratio(rest.throughput(), raw.throughput())
			in := ratio(results[cell{op.name, surfaceInProcess, conns}].throughput(), raw.throughput())
			b.rep.printf("| %s | %d | %.0f | %.2f× | %.2f× | %.2f× | %.2f× | %.2f× | %.0f%% |\n", op.name, conns, raw.throughput(), modelled, measured,
				in, bothCosts(measured, in), restRatio, 100*ratio(restRatio, c))
			if v, ok := b.rep.ceilings[op.name]; !ok || c < v.value {
				b.rep.ceilings[op.name] = ratioAt{c, fmt.Sprintf("%d conns", conns)}
			}
		}
	}
	b.rep.printf("\n")
}

// xactCount is the number of transactions the database has committed or rolled back, as
// far as its statistics show yet.
func (b *bench) xactCount(ctx context.Context) (int64, error) {
	var n int64
	err := b.conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}

// A backend flushes its statistics when it exits, but while it lives at most once a
// second, and when idle up to 10 s later. So each count runs the whole life of the
// connections that do the work: a server process started for it and stopped after, or a
// pool opened and closed; exitFlush is the wait after for the exiting backends.
const exitFlush = 500 * time.Millisecond

// xactResult is the database transactions per request of one surface.
type xactResult struct {
	surface  string
	conns    int
	requests int
	perReq   float64
}

// transactionsPerRequest counts the database's transactions (pg_stat_database) over a run
// of op on each surface, per request. For REST and MCP each run has a server process of
// its own, and the transactions of a server started and stopped without requests (start-up
// and its job queue's polling over the same time) are subtracted.
func (b *bench) transactionsPerRequest(ctx context.Context, key string, op operation) ([]xactResult, error) {
	conns := b.opts.Conns[len(b.opts.Conns)-1]
	if slices.Contains(b.opts.Conns, 16) {
		conns = 16
	}
	count := func(s string) (xacts int64, requests int, err error) {
		x0, err := b.xactCount(ctx)
		if err != nil {
			return 0, 0, err
		}
		var times []time.Duration
		if s == surfaceRaw {
			raw, err := b.openRaw(ctx, conns)
			if err != nil {
				return 0, 0, err
			}
			times, err = loop(ctx, conns, b.opts.Duration, 99, b.surfaceCall(nil, raw, nil, op, s))
			raw.Close()
			if err != nil {
				return 0, 0, err
			}
		} else {
			srv, err := b.startServer(ctx)
			if err != nil {
				return 0, 0, err
			}
			c := newClient(srv.url, key)
			if s == "" { // idle
				err = sleep(ctx, b.opts.Duration)
			} else {
				times, err = loop(ctx, conns, b.opts.Duration, 99, b.surfaceCall(c, nil, nil, op, s))
			}
			c.close()
			if err = errors.Join(err, srv.stop()); err != nil {
				return 0, 0, err
			}
		}
		if err := sleep(ctx, exitFlush); err != nil {
			return 0, 0, err
		}
		x1, err := b.xactCount(ctx)
		return x1 - x0 - 1, len(times), err // less the first count's own transaction
	}
	idle, _, err := count("")
	if err != nil {
		return nil, fmt.Errorf("transactions of an idle server: %w", err)
	}
	var out []xactResult
	for _, s := range []string{surfaceRaw, surfaceREST, surfaceMCP} {
		n, requests, err := count(s)
		if err != nil {
			return nil, fmt.Errorf("transactions per request, %s: %w", s, err)
		}
		if s != surfaceRaw {
			n -= idle
		}
		out = append(out, xactResult{surface: s, conns: conns, requests: requests, perReq: float64(max(n, 0)) / float64(max(requests, 1))})
	}
	b.rep.printf("## Database transactions per request\n\n"+
		"`%s` at %d connections for %s on each surface, counted in `pg_stat_database` (xact_commit + xact_rollback) over the whole life "+
		"of the connections that did the work (a server process of its own, or the raw pool), less the %d transactions of a server "+
		"started and stopped without requests, divided by the requests. Each transaction is at least one round trip to PostgreSQL.\n\n"+
		"| surface | requests | transactions per request |\n| --- | --- | --- |\n", op.name, conns, b.opts.Duration, idle)
	for _, x := range out {
		b.rep.printf("| %s | %d | %.2f |\n", x.surface, x.requests, x.perReq)
	}
	b.rep.printf("\n")
	return out, nil
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// inProcess is the store and capabilities of the in-process surface: opened as `relm
// serve` opens them (a pool of the same size, acting as the app role, no query tracer),
// with idle connections closed within a fifth of a second, so that between its runs it
// holds none and its backends have exited before the next surface runs, as the bare
// server's (releaseBare).
type inProcess struct {
	st  *store.Store
	reg *tools.Registry
}

// inProcessIdle is how long an idle connection of the in-process surface stays open, and
// how often its pool looks.
const inProcessIdle = 100 * time.Millisecond

func (b *bench) openInProcess(ctx context.Context) (*inProcess, error) {
	u, err := url.Parse(b.url)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("pool_max_conn_idle_time", inProcessIdle.String())
	q.Set("pool_health_check_period", inProcessIdle.String())
	u.RawQuery = q.Encode()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	reg, err := b.registry(st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &inProcess{st: st, reg: reg}, nil
}

// release waits until the pool has closed the connections its run left idle.
func (p *inProcess) release(ctx context.Context) error {
	return sleep(ctx, 2*inProcessIdle+100*time.Millisecond)
}

func (p *inProcess) close() { p.st.Close() }
