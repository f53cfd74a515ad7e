package testkit

import (
	"os"
	"testing"
)

// SkipUnlessCI skips a test whose extra tool (Node packages, a browser) is missing, saying
// why; under CI=true, where .ci/run has installed every such tool, it fails instead.
func SkipUnlessCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, but this test cannot run: "+format, args...)
	}
	t.Skipf(format, args...)
}
