package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// The attack suite (attack_*_test.go) runs `relm serve` as its own process — this test
// binary re-executed with serveChildEnv holding the arguments — so that it can be attacked
// over real sockets and its memory read from /proc.
const serveChildEnv = "RELM_TEST_SERVE_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveChildEnv); args != "" {
		os.Exit(serveChild(args))
	}
	pgtest.Main(m)
}

// serveChild runs `relm` with the JSON-encoded arguments, as main does.
func serveChild(encoded string) int {
	var args []string
	if err := json.Unmarshal([]byte(encoded), &args); err != nil {
		fmt.Fprintln(os.Stderr, "relm test child:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(ctx, args, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "relm:", err)
		return 1
	}
	return 0
}

// targetSecret is the server secret of every target, so that a target started again on a
// database opens the credentials an earlier one stored.
var targetSecret = server.EncodeSecretKey(server.NewSecretKey())

// target is a `relm serve` process under attack, on its own database.
type target struct {
	t      *testing.T
	URL    string
	Addr   string // host:port
	DB     string // the database URL (its owner)
	cmd    *exec.Cmd
	logs   *syncBuffer
	admin  *store.Admin
	exited chan struct{}
}

// startTarget runs `relm serve` on a new database with extra serve flags.
func startTarget(t *testing.T, flags ...string) *target {
	t.Helper()
	return startTargetOn(t, pgtest.NewDatabase(t), flags...)
}

// startTargetOn runs `relm serve` on the database at dbURL.
func startTargetOn(t *testing.T, dbURL string, flags ...string) *target {
	t.Helper()
	args, _ := json.Marshal(append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", dbURL, "--secret-key", targetSecret}, flags...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+string(args), "RELM_DATABASE_URL=", "RELM_APP_DATABASE_URL=")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the tests
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tg := &target{t: t, DB: dbURL, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(tg.exited) }()
	t.Cleanup(tg.stop)
	deadline := time.Now().Add(60 * time.Second)
	re := regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)`)
	for {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			tg.Addr, tg.URL = m[1], "http://"+m[1]
			break
		}
		select {
		case <-tg.exited:
			t.Fatalf("relm serve exited:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("relm serve did not start:\n%s", logs.String())
		}
	}
	admin, err := store.OpenAdmin(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	tg.admin = admin
	return tg
}

func (tg *target) stop() {
	select {
	case <-tg.exited:
		return
	default:
	}
	_ = tg.cmd.Process.Signal(os.Interrupt)
	select {
	case <-tg.exited:
	case <-time.After(40 * time.Second):
		_ = tg.cmd.Process.Kill()
		<-tg.exited
	}
}

// key makes an API key for a workspace (created when missing).
func (tg *target) key(workspace string, mode auth.Mode) string {
	tg.t.Helper()
	ws, _, err := tg.admin.EnsureWorkspace(context.Background(), workspace)
	if err != nil {
		tg.t.Fatal(err)
	}
	_, secret, err := tg.admin.CreateAPIKey(context.Background(), ws.ID, mode)
	if err != nil {
		tg.t.Fatal(err)
	}
	return secret
}

// rssMiB is the server process's resident memory, from /proc.
func (tg *target) rssMiB() float64 {
	tg.t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", tg.cmd.Process.Pid))
	if err != nil {
		tg.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tg.t.Fatal(err)
			}
			return kb / 1024
		}
	}
	tg.t.Fatal("no VmRSS")
	return 0
}

// reply is an HTTP response read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode is the error.code of a Relm error body, "" otherwise.
func (r reply) errorCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// client is an HTTP client with its own connections, optionally from another loopback
// address (the server keeps per-address limits).
func client(from string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}
}

// send makes one request with key (none when empty) and reads the whole response.
func (tg *target) send(c *http.Client, method, path, key, body string, header ...string) reply {
	tg.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tg.URL+path, rd)
	if err != nil {
		tg.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		tg.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tg.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return reply{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// mcp posts one JSON-RPC message to /mcp.
func (tg *target) mcp(c *http.Client, key, body string, header ...string) reply {
	tg.t.Helper()
	return tg.send(c, "POST", "/mcp", key, body, append([]string{"Accept", "application/json, text/event-stream"}, header...)...)
}
