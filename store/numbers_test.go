package store_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestJSONNumbersAsPostgresStoresThem checks schemas.NumberDigits against PostgreSQL: a
// jsonb number comes back written out in full with exactly that many digits, every number
// within schemas.MaxNumberDigits is stored (none answers an error), and the store's
// connections read jsonb numbers back exactly, as json.Number.
func TestJSONNumbersAsPostgresStoresThem(t *testing.T) {
	t.Parallel()
	s, _, _ := pgtest.Open(t)
	pool := s.RawPool()
	ctx := t.Context()
	notDigit := regexp.MustCompile(`[^0-9]`)
	for _, lit := range []string{
		"0", "-0", "1e3", "12.5e1", "1.50", "1.5e-3", "0.00123e5", "0.000", "0e5", "-12345678901234567890",
		"9007199254740993", "-9223372036854775808", "18446744073709551615", "0.1000000000000000055511151231257827",
		"1.5e300", "1e999", "1e-999", "-1.000e-996", "123.456e-990", "9.99e997",
	} {
		n, ok := schemas.NumberDigits(lit)
		if !ok || n > schemas.MaxNumberDigits {
			t.Fatalf("%s: %d digits (%v), want a storable number", lit, n, ok)
		}
		var text string
		var back map[string]any
		if err := pool.QueryRow(ctx, `SELECT ($1::jsonb->'n')::text, $1::jsonb`, `{"n":`+lit+`}`).Scan(&text, &back); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if got := len(notDigit.ReplaceAllString(text, "")); got != n {
			t.Errorf("%s is stored as %s: %d digits, NumberDigits says %d", lit, text, got, n)
		}
		if back["n"] != json.Number(text) {
			t.Errorf("%s reads back as %#v, want json.Number(%q)", lit, back["n"], text)
		}
	}
	// Far beyond the bound PostgreSQL refuses the number outright, which is why the bound
	// is checked before anything reaches it.
	for _, lit := range []string{"1e1000000", "1e-20000", "1e131072"} {
		var text string
		if err := pool.QueryRow(ctx, `SELECT ($1::jsonb->'n')::text`, `{"n":`+lit+`}`).Scan(&text); err == nil {
			t.Errorf("%s was stored (as %d characters); the bound no longer explains itself", lit, len(text))
		}
		if schemas.StorableNumber(lit) {
			t.Errorf("%s must not be storable", lit)
		}
	}
}
