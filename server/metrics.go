package server

import (
	"fmt"
	"net/http"
)

// serveMetrics answers GET /metrics with the process's counters in the Prometheus text
// format: what became of request logs (written, dropped because the buffer was full,
// lost to failed writes, waiting), failed reconciliations of the rate limits, and the key
// cache. They describe this process only and hold no tenant data, so they need no key.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	if s.meter == nil {
		return
	}
	logs, keys := s.logs.Stats(), s.store.KeyCacheStats()
	for _, m := range []struct {
		name, kind, help string
		value            uint64
	}{
		{"relm_request_logs_written_total", "counter", "Request logs written to the database.", logs.Written},
		{"relm_request_logs_dropped_total", "counter", "Request logs dropped because the in-memory buffer was full.", logs.Dropped},
		{"relm_request_logs_failed_total", "counter", "Request logs lost because writing them failed.", logs.Failed},
		{"relm_request_logs_waiting", "gauge", "Request logs in memory, not yet written.", uint64(logs.Waiting)},
		{"relm_meter_sync_errors_total", "counter", "Failed reconciliations of rate-limit and quota counts with the database.", s.meter.Errors()},
		{"relm_key_cache_hits_total", "counter", "Authentications answered from the in-process key cache.", keys.Hits},
		{"relm_key_cache_misses_total", "counter", "Authentications that asked the database.", keys.Misses},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", m.name, m.help, m.name, m.kind, m.name, m.value)
	}
}
