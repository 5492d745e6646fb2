//go:build unix

package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reportArgs returns `report` arguments that write the healthy demo's text report to out.
func reportTo(t *testing.T, out string, extra ...string) []string {
	t.Helper()
	return append(append([]string{"report", "-q", "-o", out}, extra...), demoFiles(t, "healthy-ipip")...)
}

// noTemps fails if dir holds a temporary output file.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// -o to a device, a FIFO or "-" writes through it; nothing is replaced.
func TestOutputWritesThrough(t *testing.T) {
	dir := t.TempDir()
	t.Run("device", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("mknod needs root")
		}
		null := filepath.Join(dir, "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil { // /dev/null is 1,3
			t.Skipf("mknod: %v", err)
		}
		code, _, stderr := runCmd(t, reportTo(t, null)...)
		st, err := os.Lstat(null)
		if code != 0 || err != nil || st.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("-o a character device: exit %d (%s), now %v (err %v), want it still a device", code, stderr, st.Mode(), err)
		}
		noTemps(t, dir)
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		// Opened for reading and writing, a FIFO never blocks its opener (Linux): calipath's open
		// finds a reader, and the report (smaller than the pipe's buffer) waits in the pipe.
		rd, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		code, _, stderr := runCmd(t, reportTo(t, fifo)...)
		rd.SetReadDeadline(time.Now().Add(time.Second))
		var b []byte
		buf := make([]byte, 4096)
		for {
			n, err := rd.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		st, err := os.Lstat(fifo)
		if code != 0 || err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Fatalf("-o a FIFO: exit %d (%s), now %v, want it still a FIFO", code, stderr, st.Mode())
		}
		if !bytes.Contains(b, []byte("calipath report")) {
			t.Errorf("the FIFO's reader got %q", b)
		}
		noTemps(t, dir)
	})
	t.Run("stdout", func(t *testing.T) {
		wd, _ := os.Getwd()
		code, stdout, stderr := runCmd(t, reportTo(t, "-")...)
		if code != 0 || !strings.HasPrefix(stdout, "calipath report") {
			t.Fatalf("-o -: exit %d (%s), stdout %.40q", code, stderr, stdout)
		}
		if _, err := os.Lstat(filepath.Join(wd, "-")); err == nil {
			t.Error("-o - made a file named -")
		}
	})
	t.Run("directory", func(t *testing.T) {
		code, _, stderr := runCmd(t, reportTo(t, dir)...)
		if code != 1 || !strings.Contains(stderr, "is a directory") {
			t.Errorf("-o a directory: exit %d, stderr %s", code, stderr)
		}
	})
}

// /dev/stdout is the file stdout is, as the shell opened it: a file opened to append is appended to,
// and /dev/stdout stays what it is. A link of one's own to /proc/self/fd/1 works the same.
func TestOutputDevStdout(t *testing.T) {
	bin := calipathBinary(t)
	dir := t.TempDir()
	own := filepath.Join(dir, "stdout")
	if err := os.Symlink("/proc/self/fd/1", own); err != nil {
		t.Fatal(err)
	}
	outs := []string{own}
	// The system's /dev/stdout only when it is the usual link: code that replaced it (as calipath
	// once did) would break every program on the machine that writes to it.
	if l, err := os.Readlink("/dev/stdout"); err == nil && l == "/proc/self/fd/1" {
		outs = append(outs, "/dev/stdout")
	}
	for _, out := range outs {
		log := filepath.Join(dir, "log.txt")
		if err := os.WriteFile(log, []byte("before\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, reportTo(t, out)...)
		cmd.Stdout = f
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err = cmd.Run()
		f.Close()
		if l, lerr := os.Readlink(out); lerr != nil || l != "/proc/self/fd/1" {
			if out == "/dev/stdout" && os.Geteuid() == 0 { // put the machine right again
				os.Remove(out)
				os.Symlink("/proc/self/fd/1", out)
			}
			t.Fatalf("-o %s replaced the link (%q, %v)", out, l, lerr)
		}
		if err != nil {
			t.Fatalf("%v: %s", err, stderr.String())
		}
		b, _ := os.ReadFile(log)
		if !bytes.HasPrefix(b, []byte("before\ncalipath report")) {
			t.Errorf("stdout appended to a file, -o %s: the file holds %.60q", out, b)
		}
		if st, err := os.Stat(log); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("the file stdout was is now %v (%v)", st.Mode(), err)
		}
		noTemps(t, dir)
	}
}

// A symbolic link is followed: its target is replaced atomically, keeping its mode; the link stays.
func TestOutputSymlink(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "reports")
	os.Mkdir(sub, 0o755)
	target := filepath.Join(sub, "report.txt")
	if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest")
	if err := os.Symlink("reports/report.txt", link); err != nil { // relative, as ln -s makes them
		t.Fatal(err)
	}
	chain := filepath.Join(dir, "chain")
	os.Symlink("latest", chain)
	code, _, stderr := runCmd(t, reportTo(t, chain)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, l := range []string{link, chain} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link", l)
		}
	}
	b, _ := os.ReadFile(target)
	st, _ := os.Stat(target)
	if !bytes.HasPrefix(b, []byte("calipath report")) || st.Mode().Perm() != 0o600 {
		t.Errorf("target: mode %v, %.40q", st.Mode(), b)
	}
	noTemps(t, dir)
	noTemps(t, sub)

	// A dangling link: its target is made.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("reports/new.txt", dangling)
	if code, _, stderr := runCmd(t, reportTo(t, dangling)...); code != 0 {
		t.Fatalf("dangling link: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(sub, "new.txt")); err != nil || !bytes.HasPrefix(b, []byte("calipath report")) {
		t.Errorf("dangling link: target %.40q, %v", b, err)
	}
	if st, err := os.Lstat(dangling); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the dangling link was replaced")
	}
}

// A replaced file keeps its mode (and, as root, its owner); a new one follows the umask.
func TestOutputMode(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.txt")
	if err := os.WriteFile(old, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(old, 0o640)
	owner := os.Geteuid() == 0
	if owner {
		if err := os.Chown(old, 4321, 4322); err != nil {
			owner = false
		}
	}
	if code, _, stderr := runCmd(t, reportTo(t, old)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	st, _ := os.Stat(old)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("a 0640 file replaced is %v", st.Mode().Perm())
	}
	if sys := st.Sys().(*syscall.Stat_t); owner && (sys.Uid != 4321 || sys.Gid != 4322) {
		t.Errorf("owner %d:%d, want 4321:4322 kept", sys.Uid, sys.Gid)
	}

	prev := syscall.Umask(0o027)
	defer syscall.Umask(prev)
	fresh := filepath.Join(dir, "new.txt")
	if code, _, stderr := runCmd(t, reportTo(t, fresh)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o640 {
		t.Errorf("a new file under umask 027 is %v, want 0640", st.Mode().Perm())
	}
	syscall.Umask(0o077)
	if code, _, _ := runCmd(t, reportTo(t, fresh)...); code != 0 {
		t.Fatal(code)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o640 {
		t.Errorf("replacing the 0640 file under umask 077 made it %v", st.Mode().Perm())
	}
	noTemps(t, dir)
}

// Every file calipath reads is refused as an output, by name, by a link to it or a hard link, and
// left as it was.
func TestOutputNeverAnInput(t *testing.T) {
	dir := t.TempDir()
	caps := demoFiles(t, "healthy-ipip")
	links := filepath.Join(dir, "links.txt")
	linksText := []byte("1: lo: <LOOPBACK,UP> mtu 65536\n2: eth0@if5: <UP> mtu 1500\n")
	os.WriteFile(links, linksText, 0o644)
	symlink := filepath.Join(dir, "sym.pcap")
	os.Symlink(caps[0], symlink)
	hard := filepath.Join(dir, "hard.pcap")
	if err := os.Link(caps[1], hard); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, p := range append([]string{links}, caps...) {
		before[p], _ = os.ReadFile(p)
	}
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"input", []string{"report", "-o", caps[2]}, "-o " + caps[2] + " is one of the inputs"},
		{"links", []string{"report", "--links", "node-a=" + links, "-o", links}, "is the --links file of node-a"},
		{"symlink", []string{"report", "-o", symlink}, "one of the inputs"},
		{"hard link", []string{"report", "-o", hard}, "one of the inputs"},
		{"cpuprofile", []string{"report", "--cpuprofile", caps[3]}, "--cpuprofile"},
		{"memprofile", []string{"report", "--memprofile", links, "--links", "node-a=" + links}, "--memprofile"},
		{"packets cpuprofile", []string{"packets", "--cpuprofile", caps[3]}, "--cpuprofile"},
		{"packets memprofile", []string{"packets", "--memprofile", caps[1]}, "--memprofile"},
		{"tui log", []string{"tui", "--log-file", caps[4]}, "--log-file"},
		{"report log", []string{"report", "--log-file", caps[4]}, "--log-file " + caps[4] + " is one of the inputs"},
		{"tui cpuprofile", []string{"tui", "--cpuprofile", caps[3]}, "--cpuprofile " + caps[3] + " is one of the inputs"},
		{"tui memprofile", []string{"tui", "--memprofile", caps[1]}, "--memprofile " + caps[1] + " is one of the inputs"},
	} {
		code, _, stderr := runCmd(t, append(c.args, caps...)...)
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: exit %d, want 2 with %q; stderr:\n%s", c.name, code, c.msg, stderr)
		}
	}
	for p, b := range before {
		if now, _ := os.ReadFile(p); !bytes.Equal(now, b) {
			t.Errorf("%s was written", p)
		}
	}
}

// stdin, when an input, is refused as the output too (`report - -o x < x`).
func TestOutputNeverStdin(t *testing.T) {
	bin := calipathBinary(t)
	capFile := filepath.Join(t.TempDir(), "x.pcap")
	b, _ := os.ReadFile(demoFiles(t, "healthy-ipip")[0])
	os.WriteFile(capFile, b, 0o644)
	in, _ := os.Open(capFile)
	defer in.Close()
	cmd := exec.Command(bin, "report", "-o", capFile, "-")
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(out), "stdin, one of the inputs") {
		t.Errorf("exit %v: %s", err, out)
	}
	if now, _ := os.ReadFile(capFile); !bytes.Equal(now, b) {
		t.Error("the input was written")
	}
}

// demo --extract never follows a link planted where a capture goes, and overwrites nothing without
// --force; with --force it replaces the link itself, never its target.
func TestDemoExtractSafe(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	sc := filepath.Join(dir, demoDefault)
	os.MkdirAll(sc, 0o755)
	caps := listDirFS(t, demoDefault)
	planted := filepath.Join(sc, caps[0])
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(sc, caps[1])
	os.WriteFile(existing, []byte("mine\n"), 0o644)

	code, _, stderr := runCmd(t, "demo", "--extract", dir)
	if code != 1 || !strings.Contains(stderr, "exists (--force overwrites)") {
		t.Errorf("extract over a link and a file: exit %d, stderr %s", code, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the link's target was written: %q", b)
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine\n" {
		t.Errorf("an existing file was overwritten without --force")
	}
	if _, err := os.Lstat(filepath.Join(sc, caps[2])); err == nil {
		t.Error("some captures were written although others were in the way")
	}

	code, _, stderr = runCmd(t, "demo", "--extract", dir, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("--force wrote the link's target: %q", b)
	}
	for _, c := range caps {
		st, err := os.Lstat(filepath.Join(sc, c))
		want, _ := demoFS.ReadFile("demo/" + demoDefault + "/" + c)
		got, _ := os.ReadFile(filepath.Join(sc, c))
		if err != nil || !st.Mode().IsRegular() || !bytes.Equal(got, want) {
			t.Errorf("%s after --force: %v, %d bytes (want %d)", c, st.Mode(), len(got), len(want))
		}
	}
	noTemps(t, sc)

	// A link where a scenario's directory goes is refused, --force or not.
	dir2 := t.TempDir()
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(dir2, demoDefault))
	code, _, stderr = runCmd(t, "demo", "--extract", dir2, "--force")
	if code != 1 || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("extract through a linked directory: exit %d, stderr %s", code, stderr)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("extract wrote %d files through a linked directory", len(ents))
	}
}

// listDirFS lists a demo scenario's embedded captures.
func listDirFS(t *testing.T, sc string) []string {
	t.Helper()
	ents, err := fs.ReadDir(demoFS, "demo/"+sc)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if isCaptureName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	if len(out) < 3 {
		t.Fatalf("%d captures in %s", len(out), sc)
	}
	return out
}
