package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/safetext"
)

// jsonReference is the JSON report as encoding/json writes it: the Result restricted by the filter
// (flows it matches, in the Result's order; anomalies it matches; ICMP errors of no flow or of a
// matched flow; the listed journeys of matched flows it matches), indented in one document, with
// safetext.JSON's escapes. The streaming writer must give the same bytes.
func jsonReference(t *testing.T, res *correlate.Result, f Filter) []byte {
	t.Helper()
	r := res
	if f != nil {
		cp := *res
		keep := map[string]bool{}
		cp.Flows = []correlate.Flow{}
		for i := range res.Flows {
			if f.MatchFlow(res, &res.Flows[i]) {
				keep[res.Flows[i].ID] = true
				cp.Flows = append(cp.Flows, res.Flows[i])
			}
		}
		cp.Anomalies = []correlate.Anomaly{}
		for i := range res.Anomalies {
			if f.MatchAnomaly(res, &res.Anomalies[i]) {
				cp.Anomalies = append(cp.Anomalies, res.Anomalies[i])
			}
		}
		cp.ICMP = []correlate.ICMPError{}
		for _, ic := range res.ICMP {
			if ic.Flow == "" || keep[ic.Flow] {
				cp.ICMP = append(cp.ICMP, ic)
			}
		}
		if res.Journeys != nil {
			cp.Journeys = []correlate.Journey{}
			for i := range res.Journeys {
				if keep[res.Journeys[i].Flow] && f.MatchJourney(res, &res.Journeys[i]) {
					cp.Journeys = append(cp.Journeys, res.Journeys[i])
				}
			}
		}
		r = &cp
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(safetext.JSON(b), '\n')
}

// sameJSON fails the test when got differs from want, naming the first line that does.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s: line %d differs from encoding/json's:\n-want %q\n+got  %q", what, i+1, cut(w, 160), cut(g, 160))
			return
		}
	}
}

func jsonFilters(t *testing.T) map[string]Filter {
	t.Helper()
	out := map[string]Filter{"none": nil}
	for _, s := range []string{"proto tcp", "proto udp", "port 1"} {
		f, err := correlate.ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		out[s] = f
	}
	return out
}

// checkStreamedJSON correlates c twice, as `report --format json --journeys` did (every journey in the
// Result) and as it does now (lean, journeys rendered while writing), and checks that the streaming
// writer gives encoding/json's bytes for each filter: without journeys, with the Result's journeys,
// and with journeys streamed. It returns the number of journeys.
func checkStreamedJSON(t *testing.T, c *decode.Capture) int {
	t.Helper()
	full := correlate.Correlate(c, correlate.Options{Journeys: true})
	lean := correlate.Correlate(c, correlate.Options{Lean: true})
	noJ := *full
	noJ.Journeys = nil
	for name, f := range jsonFilters(t) {
		var opts []Option
		if f != nil {
			opts = append(opts, WithFilter(f))
		}
		sameJSON(t, name+": no journeys", render(t, &noJ, JSON, opts...), jsonReference(t, &noJ, f))
		sameJSON(t, name+": lean, no journeys", render(t, lean, JSON, opts...), jsonReference(t, &noJ, f))
		want := jsonReference(t, full, f)
		sameJSON(t, name+": the Result's journeys", render(t, full, JSON, opts...), want)
		sameJSON(t, name+": journeys streamed", render(t, lean, JSON, append(opts, WithJourneys(true))...), want)
	}
	return len(full.Journeys)
}

// TestStreamedJSONScenarios holds the streaming JSON writer to encoding/json on every sample and lab
// scenario.
func TestStreamedJSONScenarios(t *testing.T) {
	without := 0
	for _, name := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			if genScenarios[name] == nil {
				labInputs(t, name)
			}
			if checkStreamedJSON(t, scenarioCapture(t, name)) == 0 {
				without++
			}
		})
	}
	if without > 4 { // no-default-route, state-no-default-route, proxy-arp-off and ndp-gateway-off6 have no packet journeys
		t.Errorf("%d scenarios without journeys: the journeys compared are too few", without)
	}
}

// TestStreamedJSONManyFlows holds the streaming JSON writer to encoding/json on a generated many-flow
// capture.
func TestStreamedJSONManyFlows(t *testing.T) {
	dir := t.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 4
	cfg.Flows, cfg.Packets = 300, 2500
	cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.01, 0.01, 200000
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
	cfg.Dir, cfg.KeepTruth = dir, false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	files := make([]string, len(g.Files))
	for i, f := range g.Files {
		files[i] = filepath.Base(f)
	}
	if checkStreamedJSON(t, decode.Load(files, decode.Options{}, decode.PointConfig{})) == 0 {
		t.Error("no journeys: the test compares none")
	}
}

// oddStrings need escaping: JSON's own (quotes, backslashes, C0 controls, HTML's <, > and &, U+2028
// and U+2029, bytes that are not UTF-8) and safetext's (DEL, C1 controls, bidirectional characters).
var oddStrings = []string{
	"", "plain", `"quoted" \back\slash/`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f\x00\x01\x1f",
	"esc \x1b[31mred\x1b]52;c;aGk\x07", "del\x7f c1\u0080\u009b\u009f nbsp\u00a0", "bidi\u202e\u2066\u061c\u200e\u200f",
	"ls\u2028ps\u2029", "bad \xff\xfe utf8 \xc3", "truncated \xe2\x86", "arrow → ünïcödé 日本 😀",
	"a→b", "\ufffd", "\xed\xa0\x80 surrogate",
}

type customInt int

func (c customInt) MarshalJSON() ([]byte, error) {
	return []byte(`{"custom":` + string(rune('0'+c%10)) + `}`), nil
}

type inner struct {
	A string `json:"a,omitempty"`
	B []int  `json:"b"`
}

type embeds struct {
	inner
	C int `json:"c"`
}

// odd holds the shapes the generic writer handles, and those it hands to encoding/json.
type odd struct {
	S       string            `json:"s"`
	F       float64           `json:"f"`
	F32     float32           `json:"f32"`
	Small   float64           `json:"small"`
	Big     float64           `json:"big"`
	Neg     int8              `json:"neg"`
	U       uint64            `json:"u"`
	B       bool              `json:"b,omitempty"`
	T       bool              `json:"t"`
	NilS    []string          `json:"nil_s"`
	EmptyS  []string          `json:"empty_s"`
	OmitS   []string          `json:"omit_s,omitempty"`
	M       map[string]int    `json:"m"`
	EmptyM  map[string]int    `json:"empty_m"`
	NilM    map[string]int    `json:"nil_m"`
	IntKeys map[int]string    `json:"int_keys"`
	P       *inner            `json:"p"`
	NilP    *inner            `json:"nil_p"`
	Nested  [][]inner         `json:"nested"`
	Bytes   []byte            `json:"bytes"`
	Custom  customInt         `json:"custom"`
	Embeds  embeds            `json:"embeds"`
	Any     any               `json:"any"`
	Arr     [2]string         `json:"arr"`
	Quoted  int               `json:"quoted,string"`
	NoTag   string            ``
	Dash    string            `json:"-"`
	hidden  string            // unexported: never written
	Odd     map[string]string `json:"odd<&>"`
}

// TestJSONEncGeneric compares the streaming writer with encoding/json's MarshalIndent on every shape
// odd holds, with odd strings in them.
func TestJSONEncGeneric(t *testing.T) {
	m := map[string]string{}
	for i, s := range oddStrings {
		m[s] = oddStrings[len(oddStrings)-1-i]
	}
	for _, s := range oddStrings {
		v := []odd{{S: s, F: 3.25, F32: 0.1, Small: 1e-9, Big: 1e22, Neg: -5, U: 1 << 63, T: true, EmptyS: []string{},
			M: map[string]int{"warning": 2, "error": 1, s: 3}, EmptyM: map[string]int{}, IntKeys: map[int]string{2: "b", 10: s},
			P: &inner{A: s, B: []int{1, 2}}, Nested: [][]inner{{}, {{B: []int{}}}}, Bytes: []byte(s), Custom: 7,
			Embeds: embeds{inner: inner{A: s}, C: 1}, Any: map[string]any{"k": []any{1, s}}, Arr: [2]string{s, "x"},
			Quoted: 5, NoTag: s, Dash: "no", hidden: "no", Odd: m}, {}}
		want, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "odd "+s, encodeStreamed(t, v), safetext.JSON(want))
	}
}

func reflectValue(v any) reflect.Value { return reflect.ValueOf(v) }

// encodeStreamed is v as the streaming writer writes it.
func encodeStreamed(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	e := newJSONEnc(&b)
	e.value(reflectValue(v))
	e.flush(true)
	if e.err != nil {
		t.Fatal(e.err)
	}
	return b.Bytes()
}

// TestJSONEncDeep compares the streaming writer with encoding/json's MarshalIndent on lists nested
// past the depths its indentation is sliced from (and at every depth on the way).
func TestJSONEncDeep(t *testing.T) {
	type nest struct {
		N  int    `json:"n"`
		In []nest `json:"in"`
	}
	v := []nest{{N: -1}}
	for depth := range 48 {
		v = []nest{{N: depth, In: v}, {N: depth}}
		want, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "depth "+strconv.Itoa(depth), encodeStreamed(t, v), safetext.JSON(want))
	}
}
