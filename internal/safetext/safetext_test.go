package safetext

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"eth0":                     "eth0",
		"cali\x1b]0;pwned\x07":     `cali\x1b]0;pwned\x07`,
		"a\x1b[2Jb":                `a\x1b[2Jb`,
		"x\x9b31my":                `x\x9b31my`, // a byte that is not UTF-8
		"\u009b":                   `\u009b`,    // C1 CSI as a code point
		"del\x7f":                  `del\x7f`,
		"tab\there\nline":          `tab\x09here\x0aline`,
		"ok \uFFFD already":        "ok \uFFFD already",
		"node-a/calic440f455693 ✓": "node-a/calic440f455693 ✓",
		"eth0\u202egnp.exe":        `eth0\u202egnp.exe`, // right-to-left override
		"\u2066\u2067\u2068\u2069": `\u2066\u2067\u2068\u2069`,
		"\u200e\u200f\u061c":       `\u200e\u200f\u061c`,
		"\u202a\u202b\u202c\u202d": `\u202a\u202b\u202c\u202d`,
		"\u00a0é\u2028→":           "\u00a0é\u2028→", // not controls, not bidi overrides
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// The rune classes: every C0, C1 and bidi formatting character is unsafe, and nothing next to them.
func TestUnsafe(t *testing.T) {
	for r := rune(0); r < 0x3000; r++ {
		want := r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x61c || r == 0x200e || r == 0x200f ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
		if Unsafe(r) != want {
			t.Errorf("Unsafe(%U) = %v", r, !want)
		}
	}
}

// JSON escapes what encoding/json leaves raw, and the value read back is the original string.
func TestJSON(t *testing.T) {
	name := "eth0\x1b]52;c;eA==\x07\u009b31m\u202egnp\x7f\u2066é"
	var b bytes.Buffer
	if err := json.NewEncoder(JSONWriter(&b)).Encode(map[string]string{"iface": name}); err != nil {
		t.Fatal(err)
	}
	want := `{"iface":"eth0\u001b]52;c;eA==\u0007\u009b31m\u202egnp\u007f\u2066é"}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["iface"] != name {
		t.Errorf("read back %q, %v", back["iface"], err)
	}
	if clean := []byte(`{"a":"b → c"}`); &JSON(clean)[0] != &clean[0] {
		t.Error("JSON copies clean output")
	}
}

// FuzzClean: whatever the input, the output is valid UTF-8 without an unsafe rune, cleaning is
// idempotent, and clean input is returned as it is.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"eth0", "a\x1b[2Jb", "x\x9b31my", "\u009b", "\xff\xfe", "ok \uFFFD", "\u202e", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q: not UTF-8", s, out)
		}
		unsafe := false
		for _, r := range s {
			unsafe = unsafe || Unsafe(r) || r == utf8.RuneError
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("Clean(%q) = %q: unsafe rune %U", s, out, r)
			}
		}
		if again := Clean(out); again != out {
			t.Fatalf("Clean not idempotent: %q → %q → %q", s, out, again)
		}
		if !unsafe && out != s {
			t.Fatalf("Clean(%q) = %q changed a clean string", s, out)
		}
		// JSON of any string is the same value, with no unsafe rune raw.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		j := JSON(b)
		var back string
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("JSON(%s) = %s: %v", b, j, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && utf8.ValidString(s) {
			t.Fatalf("JSON(%s) read back %q, want %q", b, back, want)
		}
		for _, r := range string(j) {
			if Unsafe(r) {
				t.Fatalf("JSON(%s) = %s: unsafe rune %U", b, j, r)
			}
		}
	})
}

// oddJSONStrings need escaping: JSON's own (quotes, backslashes, C0 controls, HTML's <, > and &, U+2028
// and U+2029, bytes that are not UTF-8) and safetext's (DEL, C1 controls, bidirectional characters).
var oddJSONStrings = []string{
	"", "plain", `"quoted" \back\slash/`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f\x00\x01\x1f",
	"esc \x1b[31mred\x1b]52;c;aGk\x07", "del\x7f c1\u0080\u009b\u009f nbsp\u00a0", "bidi\u202e\u2066\u061c\u200e\u200f",
	"ls\u2028ps\u2029", "bad \xff\xfe utf8 \xc3", "truncated \xe2\x86", "arrow → ünïcödé 日本 😀",
	"a→b", "\ufffd", "\xed\xa0\x80 surrogate",
}

// TestAppendJSONString compares the string quoting with encoding/json's and safetext.JSON's on odd
// strings, every rune of the Basic Multilingual Plane and a few beyond, and random bytes.
func TestAppendJSONString(t *testing.T) {
	want := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(JSON(b))
	}
	check := func(s string) {
		if got := string(AppendJSONString(nil, s)); got != want(s) {
			t.Fatalf("%q: got %s, want %s", s, got, want(s))
		}
	}
	for _, s := range oddJSONStrings {
		check(s)
	}
	for r := rune(0); r < 0x10000; r++ {
		check("x" + string(r) + "y")
	}
	for _, r := range []rune{0x10000, 0x1f600, 0xe0001, 0x10ffff} {
		check(string(r))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 24)
	for range 20000 {
		for i := range b {
			b[i] = byte(rng.Uint32())
			if rng.IntN(3) == 0 {
				b[i] &= 0x7f
			}
		}
		check(string(b))
	}
	if !utf8.ValidString(string(AppendJSONString(nil, "\xff"))) {
		t.Error("invalid UTF-8 written")
	}
}
