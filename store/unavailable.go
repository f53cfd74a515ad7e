package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// ErrUnavailable marks a failure to reach the database (refused or lost connections, a
// server shutting down or out of resources, a closed pool): an outage a retry may outlive,
// not a fault of the request or of our code. Test for it with errors.Is.
var ErrUnavailable = errors.New("store: database unavailable")

// unavailableError is a connection failure marked as ErrUnavailable, keeping its cause.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "store: database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.cause} }

// outage marks err as ErrUnavailable when it is a connection failure, and returns any
// other error unchanged. It is applied where the store reaches the pool (InTx,
// tenantBatch, Authenticate), so every caller sees database outages the same way.
func outage(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !connectionFailure(err) {
		return err
	}
	return &unavailableError{cause: err}
}

// connectionFailure reports whether err means the database could not be reached or the
// connection was lost. It deliberately does not use pgconn.SafeToRetry, which is about
// whether anything was sent, and is also true for a cancelled context or a connection used
// concurrently (a bug).
func connectionFailure(err error) bool {
	if errors.Is(err, context.Canceled) { // the caller went away: nothing to tell it
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) { // could not connect: refused, unreachable, not accepting connections
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var netErr net.Error
	return errors.Is(err, puddle.ErrClosedPool) || // the store is shutting down
		errors.Is(err, pgconn.ErrConnClosed) || // the connection was lost earlier
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || // the server hung up
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || // no connection or answer in time
		errors.As(err, &netErr) // reset, refused, unreachable
}

// unavailableState reports whether a SQLSTATE means the server cannot serve us right now:
// class 08 (connection exception), class 53 (insufficient resources: too many connections,
// out of memory or disk) and 57P01–57P03 (administrator shutdown, crash shutdown, cannot
// connect now, as during start-up or recovery).
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03":
		return true
	}
	return false
}
