// Package peer locates the real programs that interop tests run against
// (libotr's tools, python3-potr, asn1c, dot, gpg).
//
// A missing peer skips the test on a developer's machine; with
// KEYSYNC_REQUIRE_PEERS=1 (set by test.sh, and so in CI) it fails the test,
// so that an interop check can never pass by not running.
package peer

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing peers fail tests instead of skipping them.
func Required() bool { return os.Getenv("KEYSYNC_REQUIRE_PEERS") == "1" }

// Need returns the path of the program name, or ends the test if it is
// missing: with a skip, or a failure when peers are required.
func Need(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	Missing(t, name+" not found: "+err.Error())
	return ""
}

// Missing ends the test because a peer is unavailable, explaining why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("interop peer missing (KEYSYNC_REQUIRE_PEERS=1): %s", why)
	}
	t.Skipf("interop peer missing: %s", why)
}
