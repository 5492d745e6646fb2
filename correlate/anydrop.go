package correlate

import (
	"fmt"
	"path/filepath"
)

// One capture of several interfaces (tcpdump -i any, the most common shape: one per node) shares one
// kernel buffer among them all; when it overflows, the capture writes no word of it into a pcap file
// and the frames it lost are missing at whichever of its interfaces they crossed. A packet that
// vanished before such a capture's point may have crossed it unseen. Where the same capture shows,
// elsewhere in the run, that it missed packets (seen before and after one of its points but not at
// it, first seen past it on their path, or acknowledged by their receiver after vanishing before it:
// acked.go), the loss is said to be
// possibly the capture's, and how to tell. The count stands: nothing proves this packet was missed.

// sharedCaptureNote is what a loss on segment s adds when both its ends are points of one file (a
// loss inside a node captured with -i any) and that file missed packets elsewhere in the run; ""
// otherwise.
func (a *analysis) sharedCaptureNote(s *segAcc) string {
	w := a.w
	f, ok := a.onlyFile(s.to)
	if g, ok2 := a.onlyFile(s.from); !ok || !ok2 || g != f {
		return "" // across captures: the packet vanished from one and never entered the other
	}
	pts := a.filePoints(f)
	if len(pts) < 2 {
		return ""
	}
	missed := 0
	for _, x := range a.segs {
		if pts[x.to] {
			missed += x.holes
		}
	}
	for p := range pts {
		if p < len(a.enteredAt) {
			missed += int(a.enteredAt[p])
		}
	}
	for _, m := range a.ackedMiss {
		if pts[m.point] {
			missed++
		}
	}
	if missed == 0 {
		return ""
	}
	name, these := filepath.Base(w.c.Files[f].Path), "these packets"
	if s.refused > 0 {
		these = fmt.Sprintf("the %d it did not refuse", s.lost-s.refused)
	}
	return fmt.Sprintf(" %s's capture is %s, one capture of %d interfaces (-i any), which missed %s elsewhere in this run "+
		"(seen before and after one of its points but not at it, first seen past one, or acknowledged by their receiver): its kernel buffer "+
		"overflows silently, so %s may have crossed %s unseen rather than been lost. Capture the node's "+
		"interfaces in separate files, or with a larger buffer (tcpdump -B 32768), to tell.",
		w.c.Points[s.to].ID, name, len(pts), packetsText(missed), these, w.c.Points[s.to].ID)
}

// enteredPast counts a packet first seen past point pt on its path: pt's capture missed it.
func (pl *placement) enteredPast(pt int) {
	if pl.enteredAt == nil {
		pl.enteredAt = make([]int32, len(pl.w.c.Points))
	}
	if pt >= 0 && pt < len(pl.enteredAt) {
		pl.enteredAt[pt]++
	}
}

// packetsText is "1 packet" or "n packets".
func packetsText(n int) string {
	if n == 1 {
		return "1 packet"
	}
	return fmt.Sprintf("%d packets", n)
}

// onlyFile returns the file that holds point p's frames, when one alone does.
func (a *analysis) onlyFile(p int) (int, bool) {
	f := -1
	for _, si := range a.w.c.Points[p].Sources {
		if int(si) >= len(a.w.c.Sources) {
			return 0, false
		}
		g := int(a.w.c.Sources[si].File)
		if f >= 0 && g != f {
			return 0, false
		}
		f = g
	}
	return f, f >= 0 && f < len(a.w.c.Files)
}

// filePoints returns the points file f holds frames of, when it is one capture of them all (one
// interface of the file, as a -i any capture writes: its interfaces told apart by their ifindex), not
// several captures written together (a pcapng file of several interfaces, each its own).
func (a *analysis) filePoints(f int) map[int]bool {
	pts := map[int]bool{}
	iface := -1
	for si, s := range a.w.c.Sources {
		if int(s.File) != f || si >= len(a.w.c.PointOf) {
			continue
		}
		if iface >= 0 && int(s.Iface) != iface {
			return nil
		}
		iface = int(s.Iface)
		pts[a.w.c.PointOf[si]] = true
	}
	return pts
}
