package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

// BenchmarkBatchUpsert500 imports 500 new contacts per operation through the capability,
// from the JSON body a request brings (decoded as REST and MCP decode it; the encoding is
// outside the timer).
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
		b.StopTimer()
		rows := make([]any, 500)
		for j := range rows {
			rows[j] = map[string]any{"email": fmt.Sprintf("c%d.%d@example.com", i, j), "first_name": "Ada", "last_name": "Lovelace",
				"phone": "+14155550100", "metadata": map[string]any{"plan": "pro", "seats": j}}
		}
		body, err := json.Marshal(map[string]any{"contacts": rows, "dedup_on": []any{"email"}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		args, derr := tools.DecodeArgs(body)
		if derr != nil {
			b.Fatal(derr)
		}
		if _, err := entry.CallJSON(ctx, body, args); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
}
