package safetext

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"eth0":                     "eth0",
		"cali\x1b]0;pwned\x07":     "cali\uFFFD]0;pwned\uFFFD",
		"a\x1b[2Jb":                "a\uFFFD[2Jb",
		"x\x9b31my":                `x\x9b31my`,
		"\u009b":                   "\uFFFD", // C1 CSI as a code point
		"tab\there\nline":          "tab\uFFFDhere\uFFFDline",
		"ok \uFFFD already":        "ok \uFFFD already",
		"node-a/calic440f455693 ✓": "node-a/calic440f455693 ✓",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClean: whatever the input, the output is valid UTF-8 without a control character, and
// cleaning is idempotent.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"eth0", "a\x1b[2Jb", "x\x9b31my", "\u009b", "\xff\xfe", "ok \uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("Clean(%q) = %q: control character %U", s, out, r)
			}
		}
		if again := Clean(out); again != out {
			t.Fatalf("Clean not idempotent: %q → %q → %q", s, out, again)
		}
	})
}
