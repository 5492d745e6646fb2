package testtool

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

const helperEnv = "CALIPATH_TESTTOOL_HELPER"

// self is this test binary: a program that is there whatever PATH holds.
var self, _ = os.Executable()

// helperTools are the programs the helper tests ask for: one missing, one that does not run (this
// binary with a flag it does not know exits 2).
var helperTools = []Tool{
	{Name: "no-such-tool", Bins: []string{"calipath-no-such-tool"}, Install: "nowhere"},
	{Name: "broken", Bins: []string{self}, Probe: []string{"-test.no-such-flag"}, Install: "fix it"},
}

// TestHelperMissing is run by TestMissing in a child process.
func TestHelperMissing(t *testing.T) {
	i := os.Getenv(helperEnv)
	if i == "" {
		t.Skip("run by TestMissing")
	}
	tool := helperTools[0]
	if i == "1" {
		tool = helperTools[1]
	}
	Path(t, tool)
	t.Error("Path returned although the tool cannot be used")
}

// A missing program skips the test and is named after the run; with CALIPATH_REQUIRE_TOOLS=1 it fails.
func TestMissing(t *testing.T) {
	for i, want := range []string{
		"github.com/calipath/calipath/internal/testtool: SKIPPED TestHelperMissing: no-such-tool not found on PATH " +
			"(looked for calipath-no-such-tool); install it: nowhere (CALIPATH_REQUIRE_TOOLS=1 makes this a failure)\n",
		"github.com/calipath/calipath/internal/testtool: SKIPPED TestHelperMissing: broken does not run (",
	} {
		for _, require := range []string{"", "1"} {
			cmd := exec.Command(self, "-test.run=^TestHelperMissing$")
			cmd.Env = append(os.Environ(), helperEnv+"="+string(rune('0'+i)), RequireEnv+"="+require)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			switch {
			case require == "" && (err != nil || !strings.Contains(out.String(), want)):
				t.Errorf("%s missing: %v, want a pass and %q in:\n%s", helperTools[i].Name, err, want, out.String())
			case require == "1" && (err == nil || !strings.Contains(out.String(), "and CALIPATH_REQUIRE_TOOLS=1 requires it") ||
				strings.Contains(out.String(), "SKIPPED")):
				t.Errorf("%s missing with %s=1: %v, want a failure that says why in:\n%s", helperTools[i].Name, RequireEnv,
					err, out.String())
			}
		}
	}
}

// A program that is there and runs is returned, once looked up, without a note.
func TestFound(t *testing.T) {
	tool := Tool{Name: "self", Bins: []string{"calipath-no-such-tool", self}, Probe: []string{"-test.run=^$"}}
	if p := Path(t, tool); p != self || p == "" {
		t.Fatalf("Path = %q, want %q", p, self)
	}
	if s := Summary("pkg"); s != "" {
		t.Errorf("a found tool gives a summary %q", s)
	}
}
