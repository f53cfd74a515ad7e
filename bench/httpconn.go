package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// httpConns is the load generator's HTTP/1.1 client: keep-alive connections to one server,
// each writing a request and reading its whole answer itself, as load generators such as
// wrk do. net/http's client costs the generator about twice the CPU per request of pgx's
// (goroutines per connection, header maps, a body reader); on a machine whose cores the
// generator shares with the server and PostgreSQL, that cost would count against REST and
// MCP but not against raw SQL, whose generator is pgx itself.
type httpConns struct {
	addr string         // host:port
	idle chan *httpConn // connections between requests
	dial func() (net.Conn, error)
}

// maxIdleConns is how many connections stay open between requests: more than the largest
// concurrency measured, so each worker of a closed loop keeps its own.
const maxIdleConns = 1024

// requestTimeout bounds one request, answer included.
const requestTimeout = time.Minute

func newHTTPConns(addr string) *httpConns {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &httpConns{addr: addr, idle: make(chan *httpConn, maxIdleConns),
		dial: func() (net.Conn, error) { return d.Dial("tcp", addr) }}
}

// httpConn is one keep-alive connection, with its buffers.
type httpConn struct {
	c   net.Conn
	r   *bufio.Reader
	req []byte // the request being written
}

// answer is what a request got: the status and the body, which is valid until the
// connection's next request.
type answer struct {
	status int
	body   []byte
}

// do sends one request (headers: whole "Name: value\r\n" lines) and reads its answer; the
// body is returned only when keep is true or the status is not want, else read and
// dropped. The returned body is a copy the caller may keep.
func (h *httpConns) do(ctx context.Context, method, target, headers string, body []byte, want int, keep bool) (answer, error) {
	if err := ctx.Err(); err != nil {
		return answer{}, err
	}
	hc, err := h.get()
	if err != nil {
		return answer{}, err
	}
	a, reuse, err := hc.roundTrip(h.addr, method, target, headers, body, want, keep)
	if err != nil || !reuse {
		hc.c.Close()
		return a, err
	}
	select {
	case h.idle <- hc:
	default:
		hc.c.Close()
	}
	return a, nil
}

func (h *httpConns) get() (*httpConn, error) {
	select {
	case hc := <-h.idle:
		return hc, nil
	default:
	}
	c, err := h.dial()
	if err != nil {
		return nil, err
	}
	return &httpConn{c: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// close closes the idle connections.
func (h *httpConns) close() {
	for {
		select {
		case hc := <-h.idle:
			hc.c.Close()
		default:
			return
		}
	}
}

// roundTrip writes the request and reads the answer; reuse says whether the connection
// may carry another request.
func (hc *httpConn) roundTrip(host, method, target, headers string, body []byte, want int, keep bool) (a answer, reuse bool, err error) {
	if err := hc.c.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return a, false, err
	}
	req := append(hc.req[:0], method...)
	req = append(req, ' ')
	req = append(req, target...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, host...)
	req = append(req, "\r\n"...)
	req = append(req, headers...)
	if body != nil {
		req = append(req, "Content-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n"...)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	hc.req = req
	if _, err := hc.c.Write(req); err != nil {
		return a, false, err
	}
	return hc.readAnswer(method == "HEAD", want, keep)
}

// readAnswer reads a status line, headers and a body (by Content-Length, chunked, or to
// the end of the connection).
func (hc *httpConn) readAnswer(head bool, want int, keep bool) (a answer, reuse bool, err error) {
	line, err := hc.line()
	if err != nil {
		return a, false, fmt.Errorf("reading the status line: %w", err)
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return a, false, fmt.Errorf("not an HTTP/1.x status line: %q", line)
	}
	if a.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return a, false, fmt.Errorf("bad status in %q", line)
	}
	length, chunked, reuse := int64(-1), false, line[7] == '1'
	for {
		line, err := hc.line()
		if err != nil {
			return a, false, fmt.Errorf("reading headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return a, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return a, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			if asciiEqualFold(value, "close") {
				reuse = false
			}
		}
	}
	keep = keep || a.status != want
	var sink io.Writer = io.Discard
	var buf bytes.Buffer
	if keep {
		sink = &buf
	}
	switch {
	case head || a.status == 204 || a.status == 304 || a.status/100 == 1:
	case chunked:
		err = hc.chunks(sink)
	case length >= 0 && !keep:
		_, err = hc.r.Discard(int(length))
	case length >= 0:
		_, err = io.CopyN(sink, hc.r, length)
	default: // to the end of the connection
		_, err = io.Copy(sink, hc.r)
		reuse = false
	}
	if err != nil {
		return a, false, fmt.Errorf("reading the body: %w", err)
	}
	a.body = buf.Bytes()
	return a, reuse, nil
}

// chunks copies a chunked body to w, trailers skipped.
func (hc *httpConn) chunks(w io.Writer) error {
	for {
		line, err := hc.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, up to the blank line
				line, err := hc.line()
				if err != nil || len(line) == 0 {
					return err
				}
			}
		}
		if _, err := io.CopyN(w, hc.r, n); err != nil {
			return err
		}
		if line, err := hc.line(); err != nil || len(line) != 0 {
			return errors.Join(err, errors.New("a chunk does not end with CRLF"))
		}
	}
}

// line reads one CRLF-terminated line, without the CRLF; it is valid until the next read.
func (hc *httpConn) line() ([]byte, error) {
	line, err := hc.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(line[:len(line)-1], []byte("\r")), nil
}

// asciiEqualFold reports whether b is s, ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
