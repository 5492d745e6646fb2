package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// versionText says what the build info holds, and "unknown" (or devel) where it holds nothing.
func TestVersionText(t *testing.T) {
	for _, c := range []struct {
		name  string
		bi    *debug.BuildInfo
		built string
		want  []string
	}{
		{"no build info", nil, "", []string{"calipath unknown\n", "commit:  unknown\n", "built:   unknown\n",
			"go:      " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"}},
		{"a source tree without VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/calipath/calipath", Version: "(devel)"}},
			"", []string{"calipath devel (built from a source tree without a version)\n", "commit:  unknown\n", "built:   unknown\n", "go:      go1.26.8 "}},
		{"a tagged module with a build date", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "false"}}}, "2026-12-02T11:00:00Z",
			[]string{"calipath v1.2.3\n", "commit:  0123456789abcdef0123456789abcdef01234567, committed 2026-12-01T10:00:00Z\n",
				"built:   2026-12-02T11:00:00Z\n"}},
		{"uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201100000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789ab"}, {Key: "vcs.modified", Value: "true"}}}, "",
			[]string{"calipath v0.0.0-20261201100000-0123456789ab+dirty\n", "commit:  0123456789ab (with uncommitted changes)\n"}},
	} {
		got := versionText(c.bi, c.built)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: versionText lacks %q:\n%s", c.name, w, got)
			}
		}
	}
}

// The real binary: --version and calipath version print the same, on stdout, exit 0, with the
// commit and module version go records in the binary (go version -m says what it holds), and a
// build date only when the build set one.
func TestVersionBinary(t *testing.T) {
	bin := calipathBinary(t)
	code, out, errs := runBinary(t, "", "--version")
	code2, out2, _ := runBinary(t, "", "version")
	if code != exitOK || code2 != exitOK || errs != "" || out == "" || out != out2 {
		t.Fatalf("--version: exit %d, version: exit %d; stderr %q\n--version:\n%s\nversion:\n%s", code, code2, errs, out, out2)
	}
	m, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(m), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			info["version"] = f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				info[k] = v
			}
		}
	}
	wantCommit := "unknown"
	if r := info["vcs.revision"]; r != "" {
		wantCommit = r
	}
	wantVersion := "unknown"
	switch v := info["version"]; v {
	case "":
	case "(devel)":
		wantVersion = "devel"
	default:
		wantVersion = v
	}
	for _, w := range []string{"calipath " + wantVersion, "commit:  " + wantCommit, "built:   unknown"} {
		if !strings.Contains(out, w) {
			t.Errorf("--version lacks %q (go version -m: %v):\n%s", w, info, out)
		}
	}
	if code, _, errs := runBinary(t, "", "version", "extra"); code != exitUsage || !strings.Contains(errs, "takes no arguments") {
		t.Errorf("version extra: exit %d, stderr %s", code, errs)
	}

	// The build date, as the README shows how to set it.
	dated := filepath.Join(t.TempDir(), "calipath")
	if b, err := exec.Command("go", "build", "-ldflags", "-X main.buildDate=2026-12-02T11:00:00Z", "-o", dated, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags: %v\n%s", err, b)
	}
	if out, err := exec.Command(dated, "--version").Output(); err != nil || !strings.Contains(string(out), "built:   2026-12-02T11:00:00Z\n") {
		t.Errorf("built with -X main.buildDate: %v\n%s", err, out)
	}
}
