package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An output that cannot be written is named as the user gave it, never by the temporary file beside
// it or a directory calipath resolved on the way; a missing directory fails before any input is read.
func TestOutputErrorNamesTheGivenPath(t *testing.T) {
	files, _ := filepath.Glob("demo/mtu-blackhole/*.pcap")
	// A directory where calipath may not create a file: /sys for root (read-only to everyone), a
	// directory without write permission otherwise.
	unwritable := "/sys"
	if os.Geteuid() != 0 {
		unwritable = filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(unwritable, 0o555); err != nil {
			t.Fatal(err)
		}
	} else if st, err := os.Stat("/sys/kernel"); err != nil || !st.IsDir() {
		t.Skip("no /sys to be refused a file in, as root")
	}
	dir := t.TempDir()
	for _, c := range []struct{ out, want string }{
		{"/nonexistent/dir/x.txt", "calipath report: -o /nonexistent/dir/x.txt: no such directory: /nonexistent/dir\n"},
		{filepath.Join(dir, "no", "x.txt"), "calipath report: -o " + filepath.Join(dir, "no", "x.txt") + ": no such directory: " + filepath.Join(dir, "no") + "\n"},
		{dir, "calipath report: -o " + dir + ": is a directory\n"},
		{filepath.Join(unwritable, "x.txt"), "calipath report: -o " + filepath.Join(unwritable, "x.txt") + ": "},
	} {
		code, out, errs := runBinary(t, "", append([]string{"report", "-q", "-o", c.out}, files...)...)
		if code != exitSkipped || out != "" || !strings.HasPrefix(errs, c.want) || strings.Count(errs, "\n") != 1 || strings.Contains(errs, ".tmp") {
			t.Errorf("-o %s: exit %d, stdout %q, stderr %q; want exit %d and only %q…", c.out, code, out, errs, exitSkipped, c.want)
		}
	}
	// The missing directory is found before the inputs are read: a missing input is not reached.
	code, _, errs := runBinary(t, "", "report", "-q", "-o", "/nonexistent/dir/x.txt", filepath.Join(dir, "missing.pcap"))
	if code != exitSkipped || !strings.Contains(errs, "no such directory") || strings.Contains(errs, "missing.pcap") {
		t.Errorf("-o to a missing directory with a missing input: exit %d, stderr %s", code, errs)
	}
}
