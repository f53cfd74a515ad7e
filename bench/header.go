package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// header is the top of the report: the command, when it started, which code, which machine
// and which PostgreSQL with the settings that matter.
func (b *bench) header(ctx context.Context, started time.Time) (string, error) {
	var pg struct{ version, fsync, sharedBuffers, syncCommit, maxConns string }
	for _, s := range []struct {
		name string
		to   *string
	}{{"server_version", &pg.version}, {"fsync", &pg.fsync}, {"shared_buffers", &pg.sharedBuffers},
		{"synchronous_commit", &pg.syncCommit}, {"max_connections", &pg.maxConns}} {
		if err := b.conn.QueryRow(ctx, "SHOW "+s.name).Scan(s.to); err != nil {
			return "", fmt.Errorf("SHOW %s: %w", s.name, err)
		}
	}
	cmd := b.opts.Command
	if cmd == "" {
		cmd = "relm bench"
	}
	where := "a private cluster in a temp dir, started for this run"
	switch {
	case b.opts.DatabaseURL != "":
		where = "the database given by --database-url"
	case b.opts.DataDir != "":
		where = "a private cluster in --data-dir"
	}
	var h strings.Builder
	fmt.Fprintf(&h, "# Performance\n\n")
	fmt.Fprintf(&h, "Measured by `%s`.\n\n", cmd)
	fmt.Fprintf(&h, "| | |\n| --- | --- |\n")
	fmt.Fprintf(&h, "| date (UTC) | %s |\n", started.UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(&h, "| git commit | %s (build: %s) |\n", gitCommit(), buildRevision())
	fmt.Fprintf(&h, "| machine | %s, %d cores, %s RAM, %s/%s |\n", cpuModel(), runtime.NumCPU(), memTotal(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&h, "| Go | %s |\n", runtime.Version())
	fmt.Fprintf(&h, "| PostgreSQL | %s on %s: fsync %s, synchronous_commit %s, shared_buffers %s, max_connections %s |\n",
		pg.version, where, pg.fsync, pg.syncCommit, pg.sharedBuffers, pg.maxConns)
	switch {
	case b.opts.WebhooksOnly:
		fmt.Fprintf(&h, "| data | none: webhook delivery only |\n\n")
	default:
		data := fmt.Sprintf("%s contacts seeded (companies 1/20 of that, deals 1/5, activities 1/4, contact-to-deal associations 1/4)", thousands(b.opts.Contacts))
		if b.opts.Reuse {
			data = fmt.Sprintf("the workspace an earlier run seeded, now %s contacts", thousands(b.opts.Contacts))
		}
		fmt.Fprintf(&h, "| data | %s |\n", data)
		fmt.Fprintf(&h, "| load | closed loop, %s per cell in %d runs of each surface, each after a %s warm-up, concurrency %s |\n\n",
			b.opts.Duration, runsPerCell, cellWarmup(b.opts.Duration), joinInts(b.opts.Conns))
	}
	return h.String(), nil
}

// gitCommit is the short commit of the working directory, or "unknown".
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// buildRevision is the VCS revision stamped into this binary, or "not stamped" (go run and
// test binaries are not).
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "not stamped"
	}
	rev, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "not stamped"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += ", modified"
	}
	return rev
}

// cpuModel is the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return "unknown CPU"
}

// memTotal is the machine's RAM from /proc/meminfo.
func memTotal() string {
	kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// procField is the value of the first "name: value" line of a /proc file, or "".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
