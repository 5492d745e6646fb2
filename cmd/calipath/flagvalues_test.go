package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// --fail-on takes kinds and severities in any case (the report prints ERROR); --format too.
func TestFailOnAndFormatAnyCase(t *testing.T) {
	files, _ := filepath.Glob("demo/mtu-blackhole/*.pcap")
	for _, fail := range []string{"ERROR", "Warning", "PMTU-Blackhole", "info, Pmtu-blackhole"} {
		code, _, errs := runBinary(t, "", append([]string{"report", "-q", "--format", "JSON", "-o", "/dev/null", "--fail-on", fail}, files...)...)
		if code != exitFound || !strings.Contains(errs, "--fail-on: found") || !strings.Contains(errs, "pmtu-blackhole") {
			t.Errorf("--fail-on %q: exit %d, want %d naming pmtu-blackhole; stderr:\n%s", fail, code, exitFound, errs)
		}
	}
	for _, sub := range []string{"points", "packets"} {
		code, out, errs := runBinary(t, "", sub, "--format", "JSON", files[0])
		if code != exitOK || !strings.HasPrefix(out, "{") {
			t.Errorf("%s --format JSON: exit %d, stdout %.80q, stderr %s", sub, code, out, errs)
		}
	}
}
