package safetext

import "testing"

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
