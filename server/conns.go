package server

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Timeouts bound how long a connection may hold the server's resources: a request's
// headers and body must arrive within ReadHeader and Read, its response must be taken by
// the client within Write (a client that stops reading is cut off, and its request's
// memory returned), and an idle keep-alive connection is closed after Idle.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultConnsPerClient is how many connections one client address may hold open.
const DefaultConnsPerClient = 256

// DefaultTimeouts are the timeouts of `relm serve` unless configured otherwise.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 60 * time.Second}

// NewHTTPServer is the HTTP server Relm listens with: h behind the timeouts t (zero fields
// take DefaultTimeouts').
func NewHTTPServer(h http.Handler, t Timeouts) *http.Server {
	def := DefaultTimeouts
	pick := func(v, d time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return d
	}
	read := pick(t.Read, def.Read)
	return &http.Server{Handler: h, ReadHeaderTimeout: min(pick(t.ReadHeader, def.ReadHeader), read), ReadTimeout: read,
		WriteTimeout: pick(t.Write, def.Write), IdleTimeout: pick(t.Idle, def.Idle), MaxHeaderBytes: 64 << 10}
}

// LimitConnsPerClient caps the connections one client address (an IPv4 address, or an
// IPv6 /64) may hold open on ln at once, idle keep-alive connections included. A connection
// beyond the cap is answered with 429 concurrency_limited and closed. max <= 0 means no cap.
func LimitConnsPerClient(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: max, open: map[netip.Prefix]int{}, refusing: make(chan struct{}, 64)}
}

type connLimiter struct {
	net.Listener
	max      int
	mu       sync.Mutex
	open     map[netip.Prefix]int
	refusing chan struct{} // bounds the connections being refused at once
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := addrPrefix(c.RemoteAddr().String())
		l.mu.Lock()
		if l.open[addr] >= l.max {
			l.mu.Unlock()
			l.refuse(c)
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *connLimiter) release(addr netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// refuse answers a connection over the cap with a 429 once its request has arrived (so the
// client reads the answer rather than a reset), or closes it when too many are being refused.
func (l *connLimiter) refuse(c net.Conn) {
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		body := `{"error":{"code":"concurrency_limited","message":"This address already has ` + strconv.Itoa(l.max) +
			` connections open to this server, as many as it may. Reuse open connections (keep-alive) instead of opening more, and close the ones you do not need."}}`
		_, _ = c.Write([]byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	}()
}

// limitedConn gives its place back when closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
