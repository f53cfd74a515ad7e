package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// TestOutageClassification: connection failures become ErrUnavailable, however wrapped;
// every other failure, a bug or a constraint, stays what it was.
func TestOutageClassification(t *testing.T) {
	for _, err := range []error{
		&pgconn.ConnectError{},
		&pgconn.PgError{Code: "08006"}, // connection_failure
		&pgconn.PgError{Code: "08001"}, // could not establish a connection
		&pgconn.PgError{Code: "57P01"}, // admin_shutdown: terminated
		&pgconn.PgError{Code: "57P02"}, // crash_shutdown
		&pgconn.PgError{Code: "57P03"}, // cannot_connect_now: starting up, recovering
		&pgconn.PgError{Code: "53300"}, // too_many_connections
		&pgconn.PgError{Code: "53100"}, // disk_full
		pgconn.ErrConnClosed,
		puddle.ErrClosedPool,
		io.EOF,
		io.ErrUnexpectedEOF,
		context.DeadlineExceeded,
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
	} {
		wrapped := fmt.Errorf("store: list contacts: %w", err)
		got := outage(wrapped)
		if !errors.Is(got, ErrUnavailable) || !errors.Is(got, err) {
			t.Errorf("%#v: not marked unavailable (or cause lost): %v", err, got)
		}
		if again := outage(got); again != got {
			t.Errorf("%#v: marked twice", err)
		}
	}
	for _, err := range []error{
		nil,
		errors.New("a bug"),
		ErrNotFound,
		pgx.ErrNoRows,
		context.Canceled, // the caller went away
		fmt.Errorf("conn: %w", context.Canceled),
		&pgconn.PgError{Code: "23505"}, // unique_violation
		&pgconn.PgError{Code: "42P01"}, // undefined_table: a bug
		&pgconn.PgError{Code: "57014"}, // query_canceled
		&pgconn.PgError{Code: "40001"}, // serialization_failure
	} {
		if got := outage(err); got != err || errors.Is(got, ErrUnavailable) {
			t.Errorf("%#v: classified as %v", err, got)
		}
	}
}
