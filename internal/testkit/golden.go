package testkit

import (
	"os"
	"testing"
)

// Golden compares got with the file at path and reports a drift with its diff and hint
// (how to regenerate the file); with update it rewrites the file instead.
func Golden(t testing.TB, path string, got []byte, update bool, hint string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v. %s", err, hint)
		return
	}
	if d := Diff(path, "got", want, got); d != "" {
		t.Errorf("%s drifted. %s\n%s", path, hint, d)
	}
}
