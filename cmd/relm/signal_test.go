package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCtrlCDrainsBeforeStoppingPostgres runs `relm serve` on its private cluster in a
// process group of its own, as a shell runs a foreground command, starts a request whose
// body arrives slowly, and sends SIGINT to the whole group, as a terminal's Ctrl-C does.
// The private PostgreSQL is in a group of its own, so it keeps serving until relm has
// drained: the request completes, and relm then stops postgres and exits cleanly.
func TestCtrlCDrainsBeforeStoppingPostgres(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	if os.Geteuid() == 0 {
		// postgres then runs as an unprivileged user, who must get through the testing
		// package's private (0700) parent of t.TempDir.
		for _, dir := range []string{filepath.Dir(dataDir), dataDir} {
			if err := os.Chmod(dir, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	args, _ := json.Marshal([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--secret-key", targetSecret})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+string(args), "RELM_DATABASE_URL=", "RELM_APP_DATABASE_URL=")
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 10 * time.Second
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	var url, key string
	addr := regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)`)
	live := regexp.MustCompile(`live: (sk_live_\S+)`)
	for deadline := time.Now().Add(2 * time.Minute); url == "" || key == ""; {
		if m := addr.FindStringSubmatch(logs.String()); m != nil {
			url = "http://" + m[1]
		}
		if m := live.FindStringSubmatch(stdout.String()); m != nil {
			key = m[1]
		}
		select {
		case <-exited:
			t.Fatalf("relm serve exited (%v):\n%s", waitErr, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("relm serve did not start:\n%s", logs.String())
		}
	}

	// A create whose body is still on its way when Ctrl-C comes.
	body, send := io.Pipe()
	req, _ := http.NewRequest("POST", url+"/v1/contacts", body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- result{status: res.StatusCode, body: string(b)}
	}()
	if _, err := send.Write([]byte(`{"first_name":`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the request is running: its body is being read
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Long enough for a postgres that got the SIGINT too to have shut down (fast shutdown
	// takes milliseconds), and for relm to be draining.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "shutting down") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if _, err := send.Write([]byte(`"Drained"}`)); err != nil {
		t.Fatal(err)
	}
	send.Close()
	r := <-done
	if r.err != nil || r.status != http.StatusCreated || !strings.Contains(r.body, `"Drained"`) {
		t.Fatalf("the request in flight at Ctrl-C: %d %s %v\nserver log:\n%s", r.status, r.body, r.err, logs.String())
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("relm serve exited with %v:\n%s", waitErr, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("relm serve did not exit after Ctrl-C:\n%s", logs.String())
	}
	// It stopped its postgres on the way out.
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postgres still running after relm exited (postmaster.pid: %v):\n%s", err, logs.String())
	}
}
