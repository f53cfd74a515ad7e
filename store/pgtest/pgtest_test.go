package pgtest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestNewDatabase checks that parallel tests get distinct migrated databases, dropped afterwards.
func TestNewDatabase(t *testing.T) {
	var mu sync.Mutex
	var names []string
	t.Run("group", func(t *testing.T) {
		for i := range 2 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, NewDatabase(t))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				var name string
				var contacts *string
				if err := conn.QueryRow(ctx, "select current_database(), to_regclass('contacts')::text").Scan(&name, &contacts); err != nil {
					t.Fatal(err)
				}
				if contacts == nil {
					t.Errorf("database %s has no contacts table: not migrated", name)
				}
				mu.Lock()
				names = append(names, name)
				mu.Unlock()
			})
		}
	})
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases = %v, want two distinct ones", names)
	}

	// The parallel tests' cleanups have run, so their databases should be gone.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "select count(*) from pg_database where datname = any($1)", names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of %v still exist after their tests", left, names)
	}
}
