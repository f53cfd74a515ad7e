package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/relmcrm/relm/server"
)

// serverProcess is a server under test, a child process of the benchmark: `relm serve`,
// or the bare server (bare.go).
type serverProcess struct {
	name   string // what it is, for errors
	url    string
	pid    int
	logs   *os.File // its stderr and stdout: a request log line per request
	exited chan error
	stopFn func() error
}

// unlimited is the largest value the limit flags take: the benchmark measures work, not
// refusals.
const unlimited = "2147483647"

// startServer runs `relm serve` on the database at url, on a free loopback port, with the
// rate limits, quotas and in-flight caps lifted, and waits until /readyz answers.
func (b *bench) startServer(ctx context.Context) (*serverProcess, error) {
	return b.startChild(ctx, "relm serve", func(addr string) []string {
		return []string{"serve", "--database-url", b.url, "--addr", addr,
			"--secret-key", server.EncodeSecretKey(server.NewSecretKey()),
			"--rate-limit", unlimited, "--workspace-rate-limit", unlimited, "--quota-free", unlimited, "--quota-team", unlimited,
			"--max-in-flight-key", unlimited, "--max-in-flight-workspace", unlimited, "--max-conns-per-client", "0",
			// Authentications under way count against an address's failure bucket until they
			// succeed, so more than its 60 concurrent requests from one address are refused.
			"--auth-failure-limit", unlimited}
	})
}

// startChild runs relm with the arguments args gives for a free loopback address, and
// waits until it answers GET /readyz.
func (b *bench) startChild(ctx context.Context, name string, args func(addr string) []string) (*serverProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd, err := b.opts.Relm(args(addr))
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "RELM_APP_DATABASE_URL=", "RELM_RECORD_DIR=")
	logs, err := os.CreateTemp("", "relm-bench-serve-*.log")
	if err != nil {
		return nil, err
	}
	os.Remove(logs.Name()) // kept open until the server stops; gone after
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the benchmark
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &serverProcess{name: name, url: "http://" + addr, pid: cmd.Process.Pid, logs: logs, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	s.stopFn = func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-s.exited:
			return err
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s did not stop in 40 s: %v", name, <-s.exited)
		}
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls /readyz until it answers 200, the process exits or a minute passes.
func (s *serverProcess) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := http.Get(s.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", s.name, err, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not ready in a minute:\n%s", s.name, s.logTail())
		}
	}
}

// stop interrupts the server and waits for it to finish.
func (s *serverProcess) stop() error {
	defer s.logs.Close()
	if err := s.stopFn(); err != nil {
		return fmt.Errorf("%s: %w\n%s", s.name, err, s.logTail())
	}
	return nil
}

// logTail is the end of the server's log, for error messages.
func (s *serverProcess) logTail() string {
	fi, err := s.logs.Stat()
	if err != nil {
		return ""
	}
	const n = 4096
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	k, _ := s.logs.ReadAt(buf, off)
	return string(buf[:k])
}

// memoryMiB reads the server's resident memory (VmRSS) and its peak (VmHWM) from /proc.
func (s *serverProcess) memoryMiB() (rss, peak float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, 0, err
	}
	field := func(name string) (float64, error) {
		for _, line := range strings.Split(string(raw), "\n") {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				return kb / 1024, err
			}
		}
		return 0, fmt.Errorf("no %s in /proc/%d/status", name, s.pid)
	}
	if rss, err = field("VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = field("VmHWM")
	return rss, peak, err
}

// freePort is a loopback TCP port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
