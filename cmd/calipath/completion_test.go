package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// completionDir makes a directory with capture files and others, for the completion of files.
func completionDir(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{"node-a-eth0.pcap", "node-a.pcapng", "node-b-eth0.pcap.gz", "notes.txt", "links.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "caps"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The bash script loads, and its function, driven as bash drives it (COMP_WORDS, COMP_CWORD,
// COMP_LINE, COMP_POINT), offers subcommands, flags, fixed values and capture files.
func TestCompletionBash(t *testing.T) {
	bash := testtool.Path(t, testtool.Bash)
	bin := calipathBinary(t)
	dir := completionDir(t)
	out, err := exec.Command(bash, "-c", "source <("+bin+" completion bash) && complete -p calipath").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "complete -F _calipath calipath" {
		t.Fatalf("the bash script does not load: %v\n%s", err, out)
	}
	// Each line: what was typed, then the words offered (as bash would put them in place of the part
	// of the word after its last = or :), sorted.
	for _, c := range []struct {
		line string
		want []string
	}{
		{"calipath rep", []string{"report"}},
		{"calipath report --for", []string{"--format"}},
		{"calipath report --format ", []string{"html", "json", "markdown", "text"}},
		{"calipath report --format=m", []string{"markdown"}},
		{"calipath points --format ", []string{"json", "text"}},
		{"calipath report --fail-on ERR", []string{"error"}},
		{"calipath report --fail-on=error,pmtu", []string{"error,pmtu-blackhole"}},
		{"calipath demo --scenario ", []string{"healthy-ipip", "mtu-blackhole", "wireguard-bypass"}},
		{"calipath report -q ", []string{"caps", "node-a-eth0.pcap", "node-a.pcapng", "node-b-eth0.pcap.gz"}},
		{"calipath report --links node-a=l", []string{"links.txt"}},
		{"calipath report --links node", nil}, // the NODE part: nothing to offer, and no capture files
		{"calipath report --point node-a:eth0", nil},
		{"calipath report --point=node-a:eth0=node-a-", []string{"node-a-eth0.pcap"}},
		{"calipath report -o n", []string{"node-a-eth0.pcap", "node-a.pcapng", "node-b-eth0.pcap.gz", "notes.txt"}},
		{"calipath demo --extract ", []string{"caps"}},
		{"calipath completion ", []string{"bash", "fish", "zsh"}},
		{"calipath help t", []string{"tui"}},
		{"calipath --v", []string{"--version"}},
		{"calipath node-a-eth0.pcap n", []string{"node-a-eth0.pcap", "node-a.pcapng", "node-b-eth0.pcap.gz"}},
		{"calipath ", []string{"completion", "demo", "help", "packets", "plan", "points", "report", "tui", "version"}},
	} {
		script := `source <("$CALIPATH" completion bash)
read -r -a COMP_WORDS <<<"$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$LINE COMP_POINT=${#LINE}
_calipath
printf '%s\n' "${COMPREPLY[@]}" | sort`
		cmd := exec.Command(bash, "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CALIPATH="+bin, "LINE="+c.line)
		out, err := cmd.CombinedOutput()
		got := strings.Fields(string(out))
		if err != nil || strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("bash: %q<TAB>: %q (%v), want %q", c.line, got, err, c.want)
		}
	}
}

// zsh and fish check their scripts' syntax; zsh registers the function when the script is sourced;
// fish also completes, as it would at a prompt.
func TestCompletionZshFish(t *testing.T) {
	bin := calipathBinary(t)
	for _, sh := range []struct {
		tool  testtool.Tool
		check []string
	}{
		{testtool.Zsh, []string{"-n"}},
		{testtool.Fish, []string{"--no-execute"}},
	} {
		t.Run(sh.tool.Name, func(t *testing.T) {
			shell := testtool.Path(t, sh.tool)
			script, err := exec.Command(bin, "completion", sh.tool.Name).Output()
			if err != nil || len(script) == 0 {
				t.Fatalf("completion %s: %v", sh.tool.Name, err)
			}
			f := filepath.Join(t.TempDir(), "calipath."+sh.tool.Name)
			if err := os.WriteFile(f, script, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(shell, append(sh.check, f)...).CombinedOutput(); err != nil {
				t.Fatalf("%s %s: %v\n%s", shell, strings.Join(sh.check, " "), err, out)
			}
			if sh.tool.Name == "zsh" { // sourced after compinit, it registers its function for calipath
				out, err := exec.Command(shell, "-f", "-c", `autoload -U compinit && compinit -u -D && source "$1" && print -r -- "$_comps[calipath]"`,
					"zsh", f).CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "_calipath" {
					t.Errorf("zsh: the sourced script does not complete calipath with _calipath: %v\n%s", err, out)
				}
			}
		})
	}
	t.Run("fish completes", func(t *testing.T) {
		fish := testtool.Path(t, testtool.Fish)
		dir := completionDir(t)
		for _, c := range []struct {
			line string
			want []string
		}{
			{"calipath rep", []string{"report"}},
			{"calipath report --for", []string{"--format"}},
			{"calipath report --format ", []string{"html", "json", "markdown", "text"}},
			{"calipath report --fail-on error,pmtu", []string{"error,pmtu-blackhole"}},
			{"calipath report ", []string{"caps/", "node-a-eth0.pcap", "node-a.pcapng", "node-b-eth0.pcap.gz"}},
			{"calipath report --point n:e=node-a-", []string{"n:e=node-a-eth0.pcap"}},
		} {
			cmd := exec.Command(fish, "--no-config", "-c", `source (eval $CALIPATH completion fish | psub); complete -C"$LINE" | string replace -r '\t.*' '' | sort`)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CALIPATH="+bin, "LINE="+c.line)
			out, err := cmd.CombinedOutput()
			got := strings.Fields(string(out))
			if err != nil || strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("fish: %q<TAB>: %q (%v), want %q", c.line, got, err, c.want)
			}
		}
	})
}

// The fixed values the completion offers are the ones the subcommands accept.
func TestCompletionValuesAccepted(t *testing.T) {
	files, _ := filepath.Glob("demo/healthy-ipip/*.pcap")
	for _, s := range completionSpec() {
		for _, f := range s.flags {
			for _, v := range f.values {
				args := []string{s.name, "--" + f.long, v}
				switch s.name {
				case "demo":
					args = append(args, "--no-tui", "--format", "json")
				case "report":
					args = append(args, "-o", "/dev/null")
					args = append(args, files...)
				default:
					args = append(args, files...)
				}
				if f.long == "format" && s.name != "report" {
					args = append(args[:3], files[0]) // points, packets: one capture is enough
					if s.name == "demo" {
						args = args[:3]
					}
				}
				code, _, errs := runCLI(args...)
				if code == exitUsage {
					t.Errorf("calipath %s: a usage error for a value the completion offers:\n%s", strings.Join(args, " "), errs)
				}
			}
		}
	}
}
