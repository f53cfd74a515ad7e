package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ServeBare runs the bare server on addr until ctx ends (`relm bench --bare-server`): the
// least an HTTP server can do for an operation. Go's net/http reads the operation's
// arguments from a JSON body and runs its raw SQL for the seeded workspace over a pgx pool
// of its own, as the table owner, answering an empty JSON object: no authentication,
// metering, request log, row-level security or encoding of rows. It runs as a process of
// its own, as `relm serve` does, so what it reaches against raw SQL is the ceiling
// measured instead of modelled: a real server does at least this much.
func ServeBare(ctx context.Context, url, workspace, addr string) error {
	b := &bench{url: url, data: seedData{workspace: workspace}}
	cfg, err := b.rawConfig()
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(max(16, 4*runtime.NumCPU())) // as large as relm serve's
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	// POST /release closes the pool's connections between the bare server's runs, so that
	// raw SQL's pool of 64 and relm serve's fit under max_connections beside it.
	mux.HandleFunc("POST /release", func(http.ResponseWriter, *http.Request) { pool.Reset() })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	for _, op := range b.operations() {
		mux.HandleFunc("POST /"+op.tool, func(w http.ResponseWriter, r *http.Request) {
			var args map[string]any
			if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := op.raw(r.Context(), pool, rowsOf(args)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		})
	}
	srv := &http.Server{Addr: addr, Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.WithoutCancel(ctx))
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startBare runs the bare server on the seeded workspace as a child process.
func (b *bench) startBare(ctx context.Context) (*serverProcess, error) {
	return b.startChild(ctx, "the bare server", func(addr string) []string {
		return []string{"bench", "--bare-server", addr, "--database-url", b.url, "--bare-workspace", b.data.workspace}
	})
}

// rowsOf gives a decoded argument that is a list of objects the type the operations' raw
// SQL reads them as (a batch's contacts).
func rowsOf(args map[string]any) map[string]any {
	for k, v := range args {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			continue
		}
		rows := make([]map[string]any, len(list))
		for i, e := range list {
			if rows[i], ok = e.(map[string]any); !ok {
				break
			}
		}
		if ok {
			args[k] = rows
		}
	}
	return args
}

// releaseBare has the bare server close its connections and waits for their backends to
// exit, so that neither the connections nor their exits fall on the next run.
func (c *client) releaseBare(ctx context.Context) error {
	if err := c.send(ctx, "POST", "/release", "", nil, http.StatusOK); err != nil {
		return fmt.Errorf("release the bare server's connections: %w", err)
	}
	return sleep(ctx, 200*time.Millisecond)
}

// bare is op sent to the bare server: its arguments as a JSON body.
func (c *client) bare(op operation) call {
	return func(ctx context.Context, r *rand.Rand) error {
		body, err := json.Marshal(op.args(r))
		if err != nil {
			return err
		}
		if err := c.send(ctx, "POST", "/"+op.tool, "Content-Type: application/json\r\n", body, http.StatusOK); err != nil {
			return fmt.Errorf("bare server: %w", err)
		}
		return nil
	}
}
