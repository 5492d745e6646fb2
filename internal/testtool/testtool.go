// Package testtool finds the programs some tests run (tshark, mergecap, Chromium, tmux, shells). A test
// whose program is missing is skipped, and the package's TestMain (Main) says so after the run in
// the output of a plain `go test ./...`, which otherwise shows nothing of a package that passes. With
// CALIPATH_REQUIRE_TOOLS=1 (as .ci/run sets after installing them) a missing program fails the test.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// RequireEnv names the environment variable that turns a missing program into a failure.
const RequireEnv = "CALIPATH_REQUIRE_TOOLS"

// A Tool is a program some tests run.
type Tool struct {
	Name    string   // what messages call it
	Bins    []string // executables looked for on PATH; the first found is used
	Probe   []string // arguments of a run that must exit 0 for the program to count as working (none: not run)
	Install string   // how to install it
}

// The programs calipath's tests run.
var (
	Tshark   = Tool{Name: "tshark", Bins: []string{"tshark"}, Probe: []string{"-v"}, Install: "apt-get install tshark"}
	Mergecap = Tool{Name: "mergecap", Bins: []string{"mergecap"}, Probe: []string{"--version"},
		Install: "apt-get install tshark, which brings it"}
	Chromium = Tool{Name: "Chromium", Bins: []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"},
		Install: "apt-get install chromium"}
	Tmux = Tool{Name: "tmux", Bins: []string{"tmux"}, Probe: []string{"-V"}, Install: "apt-get install tmux"}
	// The shells whose completion scripts calipath writes.
	Bash = Tool{Name: "bash", Bins: []string{"bash"}, Probe: []string{"--version"}, Install: "apt-get install bash"}
	Zsh  = Tool{Name: "zsh", Bins: []string{"zsh"}, Probe: []string{"--version"}, Install: "apt-get install zsh"}
	Fish = Tool{Name: "fish", Bins: []string{"fish"}, Probe: []string{"--version"}, Install: "apt-get install fish"}
)

type found struct {
	path, why string // why is empty when path is usable
}

var (
	mu      sync.Mutex
	lookups = map[string]found{}    // by Tool.Name
	skipped = map[string][]string{} // Tool.Name → the tests skipped for want of it
	whyNot  = map[string]string{}   // Tool.Name → why, with the install hint
)

func find(tool Tool) found {
	mu.Lock()
	defer mu.Unlock()
	if f, ok := lookups[tool.Name]; ok {
		return f
	}
	f := found{why: tool.Name + " not found on PATH (looked for " + strings.Join(tool.Bins, ", ") + ")"}
	for _, b := range tool.Bins {
		p, err := exec.LookPath(b)
		if err != nil {
			continue
		}
		f = found{path: p}
		if tool.Probe != nil {
			if out, err := exec.Command(p, tool.Probe...).CombinedOutput(); err != nil {
				f = found{why: fmt.Sprintf("%s does not run (%s %s: %v: %.200s)", tool.Name, p,
					strings.Join(tool.Probe, " "), err, out)}
			}
		}
		break
	}
	lookups[tool.Name] = f
	return f
}

// Path returns the path of tool's executable. When it is missing or does not run, the test is
// skipped and Main names it after the run, or, with CALIPATH_REQUIRE_TOOLS=1, the test fails.
func Path(t testing.TB, tool Tool) string {
	t.Helper()
	f := find(tool)
	if f.why == "" {
		return f.path
	}
	why := f.why + "; install it: " + tool.Install
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires it (unset %s to skip such tests instead)", why, RequireEnv, RequireEnv)
	}
	mu.Lock()
	skipped[tool.Name] = append(skipped[tool.Name], t.Name())
	whyNot[tool.Name] = why
	mu.Unlock()
	t.Skip(why)
	return ""
}

// Main runs the tests and then the cleanups, names the tests skipped for a missing program, and
// exits. Call it from the package's TestMain.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	pkg := "calipath"
	if pc, _, _, ok := runtime.Caller(1); ok {
		name := runtime.FuncForPC(pc).Name() // .../decode.TestMain
		if i := strings.LastIndex(name, "."); i > strings.LastIndex(name, "/") {
			pkg = name[:i]
		}
	}
	if s := Summary(pkg); s != "" {
		say(s)
	}
	os.Exit(code)
}

// Summary returns one line per missing program naming the tests skipped for want of it, or "".
func Summary(pkg string) string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(skipped))
	for n := range skipped {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s: SKIPPED %s: %s (%s=1 makes this a failure)\n", pkg, strings.Join(skipped[n], ", "),
			whyNot[n], RequireEnv)
	}
	return b.String()
}

// say writes s where a plain `go test ./...` shows it: go test prints a passing package's output only
// with -v (or -json), so without -v s goes to the go command's own stderr when that is a terminal or
// a pipe (Linux: /proc/PPID/fd/2; not a regular file, where go's own writes at its offset could
// overwrite it). Otherwise it goes to the test's stderr, seen with -v and when the package fails. A
// passing result that go test cached is printed as "(cached)" without running the tests again, so
// without it.
func say(s string) {
	if !testing.Verbose() {
		if f := goStderr(); f != nil {
			_, err := f.WriteString(s)
			f.Close()
			if err == nil {
				return
			}
		}
	}
	fmt.Fprint(os.Stderr, s)
}

// goStderr opens the stderr of the go command that runs this test binary, or returns nil.
func goStderr() *os.File {
	ppid := os.Getppid()
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid)); err != nil || strings.TrimSpace(string(comm)) != "go" {
		return nil
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/2", ppid), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil
	}
	st, err := f.Stat()
	own, err2 := os.Stderr.Stat()
	if err != nil || err2 != nil || st.Mode().IsRegular() || os.SameFile(st, own) {
		f.Close()
		return nil
	}
	return f
}
