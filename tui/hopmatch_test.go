package tui

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

// Every hop of every journey of every lab scenario (per-interface and -i any captures) reads back, from its file and frame, a packet that
// hopMismatch takes for the hop's own: the check that a file changed under the packet screen never
// fires on files as they were read.
func TestHopFramesMatchLab(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/lab/scenarios/*")
	if err != nil || len(dirs) < 30 {
		t.Fatalf("%d lab scenarios found (%v)", len(dirs), err)
	}
	opts := decode.Options{VXLANPort: decode.DefaultVXLANPort}
	hops := 0
	for _, dir := range dirs {
		anys, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
		for _, files := range [][]string{labFiles(t, dir), anys} {
			if len(files) == 0 {
				continue
			}
			res := correlate.Correlate(decode.Load(files, opts, decode.PointConfig{}), correlate.Options{Journeys: true})
			for _, j := range res.Journeys {
				for i := range j.Hops {
					h := &j.Hops[i]
					_, pk, err := decode.ReadFrameIndexed(h.File, h.Frame, nil, opts)
					if err != nil {
						t.Fatalf("%s: journey %d hop %d: %v", filepath.Base(dir), j.ID, i, err)
					}
					if m := hopMismatch(h, &pk); m != "" {
						t.Errorf("%s: journey %d hop %d (%s frame %d): %s", filepath.Base(dir), j.ID, i, filepath.Base(h.File), h.Frame, m)
					}
					hops++
				}
			}
		}
	}
	if hops < 12000 {
		t.Errorf("%d hops checked: too few", hops)
	}
	t.Logf("%d hops checked", hops)
}

// A capture rewritten after calipath read it is not shown as the journey's packets. With another size
// or modification time (a capture taken again under its name), no frame of it is read: every journey
// with a hop in it says, under the packet screen's head, that the file changed. With the same size and
// time (its records rotated by one, the time set back: every frame number holding the next packet),
// the frames that differ from what their hops recorded (TTL, encapsulation, TCP flags) are not shown
// and said; one equal in all of those (the next ping of a series) cannot be told from the hop's.
func TestPacketFileChanged(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, f := range labFiles(t, "../testdata/lab/scenarios/healthy-ipip") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, to)
	}
	c := decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{})
	idx := frameIndexes(c)
	res := correlate.Correlate(c, correlate.Options{Journeys: true})
	victim := filepath.Join(dir, "node-a-eth0.pcap")
	st, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	m := newTest(t, res, 200, 48)
	m.c.frames = idx
	// each journey with a hop in victim, opened on the packet screen: that hop's frame and the screen
	each := func(fn func(j *correlate.Journey, hop int, fi frameInfo, screen string)) {
		for i := range res.Journeys {
			j := &res.Journeys[i]
			for k := range j.Hops {
				if j.Hops[k].File != victim {
					continue
				}
				m.pk.framesLoaded(m.pk.open(m.c, j)().(framesMsg))
				m.pk.sel = k
				fn(j, k, m.pk.frames[k], ansi.Strip(m.pk.view(m.c, 200, 40)))
			}
		}
	}

	rotateRecords(t, victim)
	if err := os.Chtimes(victim, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(victim); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatalf("the rewritten file's size or time changed: %v %v, was %v %v", st2.Size(), st2.ModTime(), st.Size(), st.ModTime())
	}
	said, untold := 0, 0
	each(func(j *correlate.Journey, hop int, fi frameInfo, screen string) {
		if fi.err == nil {
			untold++
			return
		}
		said++
		want := fmt.Sprintf("frame %d of node-a-eth0.pcap is not the packet this journey recorded there", j.Hops[hop].Frame)
		if !strings.Contains(fi.err.Error(), want) || len(fi.rec.Data) != 0 || fi.pkt.Inner.Version != 0 {
			t.Errorf("journey %d: %v, want %q and no frame kept to show", j.ID, fi.err, want)
		}
		if !strings.Contains(strings.Join(strings.Fields(screen), " "), want) {
			t.Errorf("journey %d: the packet screen does not say %q:\n%s", j.ID, want, screen)
		}
	})
	if said == 0 {
		t.Errorf("no journey said its frame was another packet (%d not told)", untold)
	}
	t.Logf("same size and time: %d journeys said the frame was another packet, %d could not tell", said, untold)

	if err := os.Chtimes(victim, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n := 0
	each(func(j *correlate.Journey, hop int, fi frameInfo, screen string) {
		n++
		var ce *decode.FileChangedError
		if !errors.As(fi.err, &ce) {
			t.Errorf("journey %d: hop %d's frame: %v, want the file said changed", j.ID, hop, fi.err)
		}
		if !strings.Contains(strings.Join(strings.Fields(screen), " "), "node-a-eth0.pcap: the file changed since calipath read it") {
			t.Errorf("journey %d: the packet screen does not say the file changed:\n%s", j.ID, screen)
		}
	})
	if n != said+untold || n == 0 {
		t.Errorf("%d journeys with a hop in the file, %d before", n, said+untold)
	}
}

// rotateRecords rewrites the pcap file path with its first record moved to the end: the same bytes
// and size, every frame number holding the next frame's packet.
func rotateRecords(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 24+16 {
		t.Fatalf("%s: %v (%d bytes)", path, err, len(b))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 0xa1 { // a1b2c3d4 or a1b23c4d written big-endian
		order = binary.BigEndian
	}
	first := 24 + 16 + int(order.Uint32(b[24+8:]))
	out := append(append(append([]byte(nil), b[:24]...), b[first:]...), b[24:first]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
