package decode

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A pcapng file keeps at most maxIfaces interface descriptions, however many it holds (a
// 194 KB .pcapng.gz of 4 M bare ones took 860 MB): the first one past the limit in each section is
// reported and packets on the ones not kept are skipped (interfaces are numbered across the file's
// sections, so a later section's are past the limit too); names are kept to maxIfaceText bytes.
func TestInterfaceFlood(t *testing.T) {
	const sec = 1764086400
	w := (&ngBuf{}).shb()
	idb := (&ngBuf{}).idb(1, 0).b
	w.b = append(w.b, bytes.Repeat(idb, maxIfaces+5)...)
	w.epb(0, sec*1e6, 60, rdFrame(0, 60)).epb(maxIfaces+4, sec*1e6+1, 60, rdFrame(1, 60)).epb(maxIfaces-1, sec*1e6+2, 60, rdFrame(2, 60))
	w.shb().idb(1, 0).epb(0, sec*1e6+3, 60, rdFrame(3, 60))
	r, err := NewReader(bytes.NewReader(w.b))
	if err != nil {
		t.Fatal(err)
	}
	var ev []string
	for {
		var rec Record
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			ev = append(ev, err.Error())
			continue
		}
		ev = append(ev, fmt.Sprintf("frame %d if %d: %d interfaces, the first named %q…", rec.Frame, rec.Iface,
			len(r.Interfaces()), r.Interfaces()[0].Name[:min(3, len(r.Interfaces()[0].Name))]))
	}
	want := []string{
		fmt.Sprintf("offset %d: more than 65536 interface descriptions in this file: this one and later ones are not kept, and packets on them are skipped", 28+20*maxIfaces),
		"frame 1 if 0: 65536 interfaces, the first named \"\"…",
		fmt.Sprintf("frame 2 (offset %d): interface id 65540 is beyond the 65536 interface descriptions kept", 28+20*(maxIfaces+5)+92),
		"frame 3 if 65535: 65536 interfaces, the first named \"\"…",
		fmt.Sprintf("offset %d: more than 65536 interface descriptions in this file: this one and later ones are not kept, and packets on them are skipped", 28+20*(maxIfaces+5)+92*3+28),
		fmt.Sprintf("frame 4 (offset %d): interface id 0 is beyond the 65536 interface descriptions kept", 28+20*(maxIfaces+5)+92*3+28+20),
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// An interface name or description is kept to maxIfaceText bytes.
func TestInterfaceNameCut(t *testing.T) {
	w := (&ngBuf{}).shb()
	w.idb(1, 0, w.opt(2, bytes.Repeat([]byte("a"), 1000))).epb(0, 1, 60, rdFrame(0, 60))
	recs, r := rdReadAll(t, w.b)
	if len(recs) != 1 || len(r.Interfaces()) != 1 {
		t.Fatalf("%d records, %d interfaces", len(recs), len(r.Interfaces()))
	}
	if n := len(r.Interfaces()[0].Name); n != maxIfaceText {
		t.Errorf("a 1000-byte interface name kept as %d bytes, want %d", n, maxIfaceText)
	}
}

// Reading a flood of bare interface descriptions with one packet takes memory for the descriptions
// kept, not for every one read (before: about 210 bytes for each 20-byte block).
func TestInterfaceFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 20 MB")
	}
	w := (&ngBuf{}).shb()
	w.b = append(w.b, bytes.Repeat((&ngBuf{}).idb(1, 0).b, 1<<20)...)
	w.epb(0, 1764086400*1e6, 60, rdFrame(0, 60))
	alloc := allocated(func() {
		events := rdEvents(t, w.b)
		if len(events) != 3 || !strings.HasPrefix(events[1], "frame 1 ") {
			t.Errorf("events %q", events)
		}
	})
	if alloc > 32<<20 {
		t.Errorf("reading 1 Mi interface descriptions allocated %d MiB", alloc>>20)
	}
}
