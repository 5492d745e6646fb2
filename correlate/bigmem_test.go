package correlate

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// TestMapperSame: with its large arrays in the Spill's mapped files (bounded-memory mode), Correlate
// gives the same Result, journeys and flows included, as with them on the heap; the sparse reads of
// the echo pairs trim the mapped pages as they go; and the arrays are there: at least the matcher's journey ids (4 bytes a frame) and, per journey, its hops' start, flow,
// status and first time, on the IP-in-IP and many-flow mixes with loss, duplicates and an offset.
func TestMapperSame(t *testing.T) {
	for _, mix := range []gen.Mix{gen.MixDefault, gen.MixManyFlows} {
		cfg := gen.DefaultConfig()
		cfg.Dir, cfg.Mix, cfg.Packets, cfg.Flows = t.TempDir(), mix, 6000, 20
		cfg.LossPerHop, cfg.DupRate = 0.01, 0.02
		cfg.Protos = gen.Protos{TCP: 0.4, UDP: 0.2, ICMP: 0.4} // echo flows of hundreds of packets
		cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
		g, err := gen.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Lean: true, Journeys: true}
		want := Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), opts)
		c, sp, err := decode.LoadSpilled(g.Files, decode.Options{}, decode.PointConfig{}, nil, t.TempDir())
		if err == decode.ErrNoSpill {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		frames := 0
		for _, o := range c.Obs {
			frames += len(o)
		}
		spilled := sp.Bytes()
		cm := &countingMapper{Spill: sp}
		opts.Mapper = cm
		got := Correlate(c, opts)
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Errorf("%v: the Result differs with the arrays mapped (%d bytes, %d on the heap)", mix, len(gj), len(wj))
		}
		nJ := len(want.Journeys)
		if least := int64(4*frames + (4+4+1+8)*nJ); sp.Mapped() < least || sp.Bytes()-spilled != sp.Mapped() {
			t.Errorf("%v: %d bytes mapped for %d frames and %d journeys, want at least %d", mix, sp.Mapped(), frames, nJ, least)
		}
		echo := 0
		for _, f := range want.Flows {
			if f.Proto == "icmp" && f.Packets >= 2*trimEvery {
				echo++
			}
		}
		if echo > 0 && cm.trims == 0 {
			t.Errorf("%v: %d ICMP flows of %d packets or more, and the stages never trimmed the mapped pages", mix, echo, 2*trimEvery)
		}
		sp.Close()
	}
}

// countingMapper is a Spill that counts the calls of Trim.
type countingMapper struct {
	*decode.Spill
	trims int
}

func (m *countingMapper) Trim() {
	m.trims++
	m.Spill.Trim()
}
