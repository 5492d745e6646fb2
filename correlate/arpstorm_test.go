package correlate

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/calipath/calipath/decode"
)

// TestARPStormPairing pairs 3,000 requests from a pod for Calico's gateway, 2 ms apart, of which the
// even ones are answered half a millisecond later and the odd ones never; a last reply comes 1.5 s
// after the last request, too late for any. Requests that no reply can answer any more leave the
// pending list as the storm goes on: every odd request must still be found unanswered, in time order.
func TestARPStormPairing(t *testing.T) {
	tb := decode.NewTables()
	pod := [4]byte{10, 0, 0, 1}
	podMAC := [6]byte{0x02, 0, 0, 0, 0, 1}
	req := tb.AddARP(decode.ARP{Op: 1, SHA: podMAC, SPA: pod, TPA: decode.CalicoGateway})
	rep := tb.AddARP(decode.ARP{Op: 2, SHA: decode.CalicoMAC, SPA: decode.CalicoGateway, THA: podMAC, TPA: pod})
	const n = 3000
	var obs []decode.Observation
	var times []int64
	var frames []uint32
	add := func(ts int64, seq uint32) {
		obs = append(obs, decode.Observation{Seq: seq, Flags: decode.FlagARP})
		times, frames = append(times, ts), append(frames, uint32(len(obs)))
	}
	ms := int64(time.Millisecond)
	for i := range int64(n) {
		add(2*i*ms, req)
		if i%2 == 0 {
			add(2*i*ms+ms/2, rep)
		}
	}
	add(2*(n-1)*ms+1500*ms, rep)
	w := &world{
		c: &decode.Capture{Obs: [][]decode.Observation{obs}, Stamps: []decode.Stamps{decode.NewStamps(obs, times, frames)}, Tables: tb, Files: []*decode.FileInfo{{Path: "storm.pcap"}},
			Points: []decode.Point{{ID: "node-1/cali1"}}},
		srcPoint: []int{0}, pointRole: []decode.Role{decode.RolePodVeth},
	}
	w.idSpace()
	a := &analysis{w: w, journeys: journeysOut{srcClock: []clockModel{{}}, stamps: w.c.Stamps}}
	out := a.arp()
	if len(out.points) != 1 {
		t.Fatalf("%d points with ARP, want 1", len(out.points))
	}
	ap := out.points[0]
	if ap.Requests != n || ap.Replies != n/2+1 || ap.Unanswered != n/2 || ap.ProxyReplies != n/2+1 {
		t.Errorf("requests %d, replies %d, unanswered %d, proxy replies %d; want %d, %d, %d, %d",
			ap.Requests, ap.Replies, ap.Unanswered, ap.ProxyReplies, n, n/2+1, n/2, n/2+1)
	}
	if len(out.findings) != n/2 {
		t.Fatalf("%d findings, want %d", len(out.findings), n/2)
	}
	for k, f := range out.findings {
		// Request i is frame i + i/2 + 1 counting the even requests' replies before it; odd i = 2k+1.
		i := 2*k + 1
		if want := uint32(i + (i+1)/2 + 1); f.kind != "proxy-arp-missing" || f.ev.Frame != want {
			t.Fatalf("finding %d: %s at frame %d, want proxy-arp-missing at frame %d", k, f.kind, f.ev.Frame, want)
		}
	}
}

// TestARPHoldsOnePointAtOnce has three points see n gratuitous ARP frames each (counted, never paired,
// so that the lists of frames are what the ARP check allocates by the frame): the check must hold one
// point's list at a time, not every point's at once, so that an ARP storm seen at many points does not
// raise the memory peak by 16 bytes for each of its frames.
func TestARPHoldsOnePointAtOnce(t *testing.T) {
	tb := decode.NewTables()
	grat := tb.AddARP(decode.ARP{Op: 1, SHA: [6]byte{0x02, 0, 0, 0, 0, 1}, SPA: [4]byte{10, 0, 0, 1}, TPA: [4]byte{10, 0, 0, 1}})
	const n, points = 30000, 3
	c := &decode.Capture{Tables: tb}
	w := &world{c: c, pointRole: make([]decode.Role, points)}
	for p := range points {
		obs, times, frames := make([]decode.Observation, n), make([]int64, n), make([]uint32, n)
		for i := range obs {
			obs[i] = decode.Observation{Seq: grat, Flags: decode.FlagARP, Source: uint16(p)}
			times[i], frames[i] = int64(i)*2*int64(time.Millisecond), uint32(i+1)
		}
		c.Obs, c.Stamps = append(c.Obs, obs), append(c.Stamps, decode.NewStamps(obs, times, frames))
		c.Files = append(c.Files, &decode.FileInfo{Path: fmt.Sprintf("p%d.pcap", p)})
		c.Points = append(c.Points, decode.Point{ID: fmt.Sprintf("node-1/eth%d", p)})
		w.srcPoint = append(w.srcPoint, p)
	}
	w.idSpace()
	a := &analysis{w: w, journeys: journeysOut{srcClock: make([]clockModel, points), stamps: c.Stamps}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := a.arp()
	runtime.ReadMemStats(&after)
	if len(out.points) != points {
		t.Fatalf("%d points with ARP, want %d", len(out.points), points)
	}
	for _, ap := range out.points {
		if ap.Gratuitous != n {
			t.Errorf("%s: %d gratuitous, want %d", ap.Point, ap.Gratuitous, n)
		}
	}
	one := uint64(n * unsafe.Sizeof(arpObs{}))
	if got := after.TotalAlloc - before.TotalAlloc; got > one+one/2 {
		t.Errorf("the ARP check allocated %d bytes for %d points of %d frames: more than one point's list (%d bytes) and a half",
			got, points, n, one)
	}
}

// BenchmarkARPStorm runs the ARP check over an ARP storm seen at four points: 250,000 frames each,
// requests from a pod for Calico's gateway every 2 ms, nine in ten answered by proxy ARP. B/op is
// what the check allocates, its lists of frames first among it.
func BenchmarkARPStorm(b *testing.B) {
	tb := decode.NewTables()
	pod := [4]byte{10, 0, 0, 1}
	podMAC := [6]byte{0x02, 0, 0, 0, 0, 1}
	req := tb.AddARP(decode.ARP{Op: 1, SHA: podMAC, SPA: pod, TPA: decode.CalicoGateway})
	rep := tb.AddARP(decode.ARP{Op: 2, SHA: decode.CalicoMAC, SPA: decode.CalicoGateway, THA: podMAC, TPA: pod})
	const n, points = 250000, 4
	c := &decode.Capture{Tables: tb}
	w := &world{c: c}
	ms := int64(time.Millisecond)
	for p := range points {
		obs, times, frames := make([]decode.Observation, 0, n), make([]int64, 0, n), make([]uint32, 0, n)
		for i := range int64(n / 2) {
			obs = append(obs, decode.Observation{Seq: req, Flags: decode.FlagARP, Source: uint16(p)})
			times, frames = append(times, 2*i*ms), append(frames, uint32(len(obs)))
			if i%10 != 0 {
				obs = append(obs, decode.Observation{Seq: rep, Flags: decode.FlagARP, Source: uint16(p)})
				times, frames = append(times, 2*i*ms+ms/2), append(frames, uint32(len(obs)))
			}
		}
		c.Obs, c.Stamps = append(c.Obs, obs), append(c.Stamps, decode.NewStamps(obs, times, frames))
		c.Files = append(c.Files, &decode.FileInfo{Path: fmt.Sprintf("p%d.pcap", p)})
		c.Points = append(c.Points, decode.Point{ID: fmt.Sprintf("node-1/cali%d", p)})
		w.srcPoint = append(w.srcPoint, p)
		w.pointRole = append(w.pointRole, decode.RolePodVeth)
	}
	w.idSpace()
	a := &analysis{w: w, journeys: journeysOut{srcClock: make([]clockModel, points), stamps: c.Stamps}}
	b.ReportAllocs()
	for range b.N {
		if out := a.arp(); len(out.points) != points {
			b.Fatalf("%d points with ARP, want %d", len(out.points), points)
		}
	}
}
