package main

import (
	"strings"
	"testing"
)

// Every subcommand that reads captures takes the input limits: past one, the input is read up to it,
// the message names the flag that raises it, and the exit code says input was skipped; a limit that
// is not a positive size or count is a usage error.
func TestLimitFlags(t *testing.T) {
	eth0 := lab + "/healthy-ipip/node-a-eth0.pcap"
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"points", "--max-frames", "5", eth0}, exitSkipped, "node-a-eth0.pcap: frame 6 (offset 542): the input holds more than 5 records (raise the limit with --max-frames)"},
		{[]string{"packets", "--max-bytes", "1K", eth0}, exitSkipped, "the input holds more than 1,024 bytes (raise the limit with --max-bytes)"},
		{[]string{"report", "--format", "json", "--max-frames", "5", eth0}, exitSkipped, "more than 5 records"},
		{[]string{"points", "--max-frames", "0", eth0}, exitUsage, "want a count from 1 to 4294967294"},
		{[]string{"points", "--max-bytes", "12X", eth0}, exitUsage, "want a positive size"},
		{[]string{"points", "--max-bytes", "64G", "--max-frames", "1_000_000", eth0}, exitOK, "node-a/eth0"},
		{[]string{"help", "report"}, exitOK, "--max-bytes SIZE"},
	} {
		code, out, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(out+errs, c.msg) {
			t.Errorf("calipath %v: exit %d, want %d with %q\nstdout: %.300s\nstderr: %s", c.args, code, c.code, c.msg, out, errs)
		}
	}
}
