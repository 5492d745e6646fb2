package main

import (
	"strings"
	"testing"
)

// A window that cannot hold a single hop is a usage error, not a report full of losses.
func TestWindowUsage(t *testing.T) {
	eth := lab + "/healthy-ipip/node-a-eth0.pcap"
	for _, sub := range []string{"report", "tui"} {
		for _, w := range []string{"0", "0s", "-1s"} {
			code, out, errs := runCLI(sub, "--window", w, eth)
			if code != exitUsage || !strings.Contains(errs, "--window must be positive") || out != "" {
				t.Errorf("calipath %s --window %s: exit %d, want %d and a message\nstdout: %s\nstderr: %s",
					sub, w, code, exitUsage, out, errs)
			}
		}
	}
}
