// Package localpg runs a private PostgreSQL cluster as a child process, for development
// servers and tests that have no database of their own. It needs PostgreSQL's server
// programs (see FindBinDir) and a Unix system.
package localpg

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the cluster's only role, created by initdb.
const superuser = "relm"

const (
	readyTimeout = 30 * time.Second // how long postgres may take to accept connections
	stopTimeout  = 10 * time.Second // how long a fast shutdown may take before SIGKILL
	tailLines    = 30               // log lines kept for error messages
)

// Options configure a private cluster.
type Options struct {
	Dir    string       // cluster directory (initdb'd on first use, reused afterwards)
	Fsync  bool         // false only for throwaway test clusters
	Logger *slog.Logger // nil means slog.Default()
	// Share lets a short-lived command use a cluster that another process already runs on
	// Dir (such as `relm keys create` beside `relm serve`); Stop then leaves it running.
	Share bool
	// Port is the port to listen on; 0 picks a free one. A fixed port lets a test stop and
	// restart a cluster under its clients' feet.
	Port int
}

// Cluster is a running postgres server on a private data directory.
type Cluster struct {
	dir      string // the cluster directory (Options.Dir, resolved)
	cmd      *exec.Cmd
	port     int
	password string
	tail     *logTail
	shared   bool          // started by another process; Stop leaves it running
	pid      int           // the postmaster's process id
	done     chan struct{} // closed once postgres has exited
	waitErr  error         // postgres's exit status; read only after done is closed
}

// Start initdb's opts.Dir if needed and starts postgres on it, returning when it accepts
// connections. The data lives in Dir/data and the superuser's password in Dir/password.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is required")
	}
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	// Directories created here are ours: when postgres runs as another user they must let
	// it pass (0711: search only, no listing).
	mode := os.FileMode(0o700)
	if runAs != nil {
		mode = 0o711
	}
	if err := mkdirAll(opts.Dir, mode); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	dir, err := filepath.EvalSymlinks(opts.Dir)
	if err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	if runAs != nil {
		if err := runAs.prepareDir(dir); err != nil {
			return nil, err
		}
	}

	dataDir := filepath.Join(dir, "data")
	_, err = os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	initialized := err == nil
	password, err := loadPassword(filepath.Join(dir, "password"), initialized)
	if err != nil {
		return nil, err
	}
	if !initialized {
		if err := initdb(ctx, bin, dir, password, runAs, logger); err != nil {
			return nil, err
		}
	}
	if pid, port, err := runningServer(dataDir); err != nil {
		return nil, err
	} else if pid > 0 {
		if !opts.Share {
			return nil, fmt.Errorf("localpg: another server is using this data directory (pid %d); "+
				"stop it or choose another --data-dir", pid)
		}
		c := &Cluster{dir: dir, port: port, password: password, shared: true, pid: pid, tail: &logTail{}}
		return c, c.waitReady(ctx)
	}

	// The free port is only reserved until we close it, so retry if postgres loses the race.
	for attempt := 1; ; attempt++ {
		c, err := launch(ctx, bin, dataDir, password, opts.Fsync, opts.Port, runAs, logger)
		if err == nil {
			c.dir = dir
		}
		if err == nil || !errors.Is(err, errPortInUse) || attempt == 3 || opts.Port != 0 {
			return c, err
		}
	}
}

// loadPassword reads the superuser's password from path, creating a random one (readable only
// by us) on first use. An initialized cluster without its password file is an error.
func loadPassword(path string, initialized bool) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return strings.TrimSpace(string(b)), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("localpg: %w", err)
	case initialized:
		return "", fmt.Errorf("localpg: %s is missing, so the existing cluster beside it cannot be used; "+
			"restore it or choose another data directory", path)
	}
	raw := make([]byte, 32)
	rand.Read(raw) // never fails
	password := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("localpg: %w", err)
	}
	return password, nil
}

// initdb creates the cluster in dir/data. It builds it in dir/data.new and renames it into
// place, so a cluster interrupted halfway is never mistaken for a finished one.
func initdb(ctx context.Context, bin, dir, password string, runAs *serverUser, logger *slog.Logger) error {
	newDir := filepath.Join(dir, "data.new")
	if err := os.RemoveAll(newDir); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if err := os.Mkdir(newDir, 0o700); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	// initdb reads the password from a file, which it must be able to open as runAs.
	pwFile, err := os.CreateTemp(dir, "pwfile-")
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer os.Remove(pwFile.Name())
	_, err = pwFile.WriteString(password + "\n")
	if err1 := pwFile.Close(); err == nil {
		err = err1
	}
	if err == nil && runAs != nil {
		err = errors.Join(runAs.chown(newDir), runAs.chown(pwFile.Name()))
	}
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}

	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", newDir, "-U", superuser,
		"--auth=scram-sha-256", "--pwfile="+pwFile.Name(), "-E", "UTF8", "--locale=C")
	cmd.Dir = newDir
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if runAs != nil {
		cmd.SysProcAttr.Credential = runAs.credential()
	}
	logger.Info("localpg: initializing PostgreSQL cluster", "dir", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("localpg: initdb: %w\n%s", err, out)
	}
	logger.Debug("localpg: initdb done", "output", string(out))
	if err := os.Rename(newDir, filepath.Join(dir, "data")); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	return nil
}

// runningServer returns the pid and port of a postgres that still holds dataDir, or a
// zero pid when none does.
func runningServer(dataDir string) (pid, port int, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	} else if err != nil {
		return 0, 0, fmt.Errorf("localpg: %w", err)
	}
	// Lines: pid, data dir, start time, port, socket dir, listen address, ...
	lines := strings.Split(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || !isPostgres(pid) {
		return 0, 0, nil // a stale file from a crash; postgres replaces it
	}
	if len(lines) > 3 {
		port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if port == 0 {
		return 0, 0, fmt.Errorf("localpg: postgres pid %d holds %s but its port is unknown", pid, dataDir)
	}
	return pid, port, nil
}

// errPortInUse means postgres could not bind the port chosen for it.
var errPortInUse = errors.New("port already in use")

// launch starts postgres on a free port and waits until it accepts connections.
func launch(ctx context.Context, bin, dataDir, password string, fsync bool, port int, runAs *serverUser, logger *slog.Logger) (*Cluster, error) {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-D", dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(port),
		"-c", "unix_socket_directories=",
		"-c", "log_line_prefix=", // the logger adds its own timestamps
	}
	if !fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = dataDir
	// Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches
	// relm, which drains its requests and only then stops postgres (Stop), instead of
	// postgres shutting down under requests still running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if runAs != nil {
		cmd.SysProcAttr.Credential = runAs.credential()
	}
	setDeathSignal(cmd.SysProcAttr)

	// postgres (and every backend it forks) logs to stderr; copy that to the logger.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	c := &Cluster{cmd: cmd, port: port, password: password, tail: &logTail{}, done: make(chan struct{})}
	logDone := make(chan struct{})
	go c.tail.copy(r, logger.With("process", "postgres"), logDone)

	// Pdeathsig fires when the *thread* that started the child exits (go.dev/issue/27505), so
	// start postgres from a goroutine that keeps its thread locked until postgres exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		w.Close()
		started <- err
		if err != nil {
			return
		}
		c.waitErr = cmd.Wait()
		select { // let the last log lines arrive, unless orphaned backends hold the pipe open
		case <-logDone:
		case <-time.After(2 * time.Second):
		}
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("localpg: start postgres: %w", err)
	}
	c.pid = cmd.Process.Pid
	logger.Debug("localpg: postgres started", "pid", cmd.Process.Pid, "port", port, "data", dataDir)

	if err := c.waitReady(ctx); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// waitReady polls until postgres accepts a connection, it exits, or readyTimeout passes.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, c.URL("postgres"))
		cancelAttempt()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.done:
			tail := c.tail.String()
			if strings.Contains(tail, "could not bind") {
				return fmt.Errorf("localpg: postgres exited (%v): %w\n%s", c.waitErr, errPortInUse, tail)
			}
			return fmt.Errorf("localpg: postgres exited before accepting connections (%v); its log ends:\n%s", c.waitErr, tail)
		case <-ctx.Done():
			return fmt.Errorf("localpg: postgres did not accept connections: %w (last error: %v); its log ends:\n%s",
				ctx.Err(), err, c.tail.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns a connection URL for database dbname on this cluster, as its superuser.
func (c *Cluster) URL(dbname string) string {
	return c.urlAs(superuser, c.password, dbname)
}

// LoginURL lets the existing role log in with a password of its own, kept beside the
// superuser's (Dir/<role>.password, created on first use), and returns a URL for database
// dbname as that role.
func (c *Cluster) LoginURL(ctx context.Context, role, dbname string) (string, error) {
	password, err := loadPassword(filepath.Join(c.dir, role+".password"), false)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, c.URL(dbname))
	if err != nil {
		return "", fmt.Errorf("localpg: %w", err)
	}
	defer conn.Close(ctx)
	// ALTER ROLE takes no parameters; the password is our own hex string.
	if _, err := conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN PASSWORD '"+password+"'"); err != nil {
		return "", fmt.Errorf("localpg: let %s log in: %w", role, err)
	}
	return c.urlAs(role, password, dbname), nil
}

func (c *Cluster) urlAs(user, password, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// PID is the postmaster's process id.
func (c *Cluster) PID() int { return c.pid }

// Stop shuts the server down (fast shutdown: SIGINT) and waits for it to exit, killing it
// if it takes longer than 10 seconds or ctx ends first.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.shared {
		return nil
	}
	select {
	case <-c.done:
		return nil
	default:
	}
	c.cmd.Process.Signal(os.Interrupt) // fails only if it has already exited
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-c.done:
		if c.waitErr != nil {
			return fmt.Errorf("localpg: postgres: %w", c.waitErr)
		}
		return nil
	case <-timer.C:
		c.kill()
		return fmt.Errorf("localpg: postgres did not shut down within %v; killed it", stopTimeout)
	case <-ctx.Done():
		c.kill()
		return fmt.Errorf("localpg: stop postgres: %w; killed it", ctx.Err())
	}
}

// kill stops postgres at once and waits for it to exit.
func (c *Cluster) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// freePort returns a TCP port on 127.0.0.1 that nothing was listening on a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail forwards postgres's log to a logger and keeps its last lines for error messages.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

// copy logs each line read from r until EOF, then closes done.
func (t *logTail) copy(r io.ReadCloser, logger *slog.Logger, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > tailLines {
			t.lines = t.lines[1:]
		}
		t.mu.Unlock()
		logger.Log(context.Background(), logLevel(line), line)
	}
	io.Copy(io.Discard, r) // after an overlong line, keep draining so postgres never blocks
}

// String returns the kept lines.
func (t *logTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// logLevel maps a postgres log line's severity to a slog level.
func logLevel(line string) slog.Level {
	switch {
	case strings.HasPrefix(line, "PANIC:"):
		return slog.LevelError
	case strings.HasPrefix(line, "WARNING:"), strings.HasPrefix(line, "FATAL:"):
		return slog.LevelWarn
	default: // LOG lines (start-up, checkpoints, shutdown) and one statement's ERROR, whose
		// DETAIL may quote customer data (a duplicate email), so it stays out of normal logs
		return slog.LevelDebug
	}
}

// mkdirAll is os.MkdirAll with mode applied exactly (not masked by umask) to every
// directory it creates; existing directories are left alone.
func mkdirAll(dir string, mode os.FileMode) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll(parent, mode); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}
