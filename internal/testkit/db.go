package testkit

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Conn is a raw connection to the database at url, for a test that reaches under the API;
// it is closed when t ends.
func Conn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Exec runs one statement on the database at url, on a connection of its own, and returns
// the number of rows it affected.
func Exec(t testing.TB, url, query string, args ...any) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tag, err := conn.Exec(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return tag.RowsAffected()
}
