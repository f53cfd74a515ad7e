package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

// BenchmarkBatchUpsert500 imports 500 new contacts per operation through the capability.
func BenchmarkBatchUpsert500(b *testing.B) {
	ctx := context.Background()
	s, admin, _ := pgtest.Open(b)
	ws, _, err := admin.EnsureWorkspace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx = auth.WithCaller(ctx, auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live})
	reg, err := tools.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), tools.All(s)...)
	if err == nil {
		err = reg.EnableCursors(server.NewSecretKey())
	}
	if err != nil {
		b.Fatal(err)
	}
	entry, _ := reg.Lookup("batch_upsert_contacts")
	b.ResetTimer()
	for i := range b.N {
		rows := make([]any, 500)
		for j := range rows {
			rows[j] = map[string]any{"email": fmt.Sprintf("c%d.%d@example.com", i, j), "first_name": "Ada", "last_name": "Lovelace",
				"phone": "+14155550100", "metadata": map[string]any{"plan": "pro", "seats": j}}
		}
		if _, err := entry.Call(ctx, map[string]any{"contacts": rows, "dedup_on": []any{"email"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
}
