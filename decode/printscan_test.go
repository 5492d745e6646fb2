package decode

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
)

// ScanPackets gives, frame by frame, the records, Packets (but Loose) and sources ScanFile gives: on
// every lab capture (WireGuard ones also on another port), the broken fixtures and generated captures
// with frames whose times go back or jump by days.
func TestScanPacketsAsScanFile(t *testing.T) {
	var files []string
	for _, pat := range []string{"../testdata/lab/*/*/*.pcap*", "../testdata/lab/*/*/*/*.pcap*", "../testdata/broken/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 300 {
		t.Fatalf("only %d lab captures found", len(files))
	}
	cfg := gen.DefaultConfig()
	cfg.Mode, cfg.Nodes, cfg.PodsPerNode = gen.ModeVXLAN, 2, 2
	cfg.Flows, cfg.Packets = 60, 1500
	cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.01, 0.02, 200000
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
	cfg.Dir, cfg.KeepTruth = t.TempDir(), false
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, g.Files...)
	type frame struct {
		rec Record
		p   Packet
		src uint16
	}
	frames, flagged := 0, 0
	for _, port := range []uint16{0, 4242} {
		opts := Options{WireGuardPort: port}
		for i, f := range files {
			tb := NewTables()
			var want []frame
			ScanFile(f, uint16(i), opts, tb, func(rec *Record, p *Packet, o *Observation) {
				r, q := *rec, *p
				r.Data, q.Payload, q.Loose = nil, nil, 0
				want = append(want, frame{r, q, o.Source})
			})
			n := 0
			err := ScanPackets(f, uint16(i), opts, tb, func(rec *Record, p *Packet, src uint16) {
				r, q := *rec, *p
				r.Data, q.Payload = nil, nil
				if n >= len(want) || !reflect.DeepEqual(frame{r, q, src}, want[n]) {
					if n < len(want) {
						t.Fatalf("%s frame %d:\n got %+v\nwant %+v", f, rec.Frame, frame{r, q, src}, want[n])
					}
					t.Fatalf("%s: frame %d past ScanFile's %d", f, rec.Frame, len(want))
				}
				if p.Errs&ErrTimestamp != 0 {
					flagged++
				}
				n++
			})
			if n != len(want) {
				t.Errorf("%s: %d frames (%v), ScanFile %d", f, n, err, len(want))
			}
			frames += n
		}
	}
	if frames < 20000 || flagged == 0 {
		t.Errorf("%d frames compared, %d with a bad timestamp: too few", frames, flagged)
	}
}
