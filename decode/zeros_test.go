package decode

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// zeroStream reads as endless zeros, as a FIFO fed from /dev/zero does.
type zeroStream struct{}

func (zeroStream) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A capture that ends in zeros (what a crash or a preallocated file leaves) is read up to them, and
// the zeros are one skipped range named by its offset: not tens of thousands of empty 1970 frames.
// Zeros shorter than a record header, not a multiple of it, across several read buffers, behind a
// gzip stream, and after pcapng blocks alike.
func TestZeroTail(t *testing.T) {
	const sec = 1764086400
	tail := func(off, n int) []string {
		return []string{
			fmt.Sprintf("skip: offset %d: zero-filled tail: the last %d bytes are zeros, not records (as a crash or a preallocated file leaves): ignored", off, n),
			"end skipped=1",
		}
	}
	pcapFrames := []string{
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400001000000 len 60/60",
	}
	two := newRdPcap(false, false, 65535, 1).frame(sec, 0, 60).frame(sec, 1, 60).b // 176 bytes
	for _, n := range []int{5, 16, 100, 1 << 20, 1<<20 + 7, 3*readBufSize + 3} {
		data := append(bytes.Clone(two), make([]byte, n)...)
		want := append(append([]string(nil), pcapFrames...), tail(176, n)...)
		if diff := cmp.Diff(want, rdEvents(t, data)); diff != "" {
			t.Errorf("pcap, %d zeros: events (-want +got):\n%s", n, diff)
		}
		if n == 1<<20 {
			if diff := cmp.Diff(want, rdEvents(t, rdGzip(data))); diff != "" {
				t.Errorf("pcap.gz, %d zeros: events (-want +got):\n%s", n, diff)
			}
		}
	}
	be := newRdPcap(true, true, 65535, 1).frame(sec, 0, 60).frame(sec, 1, 60).b
	want := append([]string(nil), pcapFrames...)
	if diff := cmp.Diff(append(want, tail(176, 1<<20)...), rdEvents(t, append(be, make([]byte, 1<<20)...))); diff != "" {
		t.Errorf("big-endian nanosecond pcap: events (-want +got):\n%s", diff)
	}

	ng := (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60)).epb(0, sec*1e6+1, 60, rdFrame(1, 60)).b
	ngFrames := []string{
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400000001000 len 60/60",
	}
	for _, n := range []int{8, 1 << 20, 1<<20 + 2, resyncLimit + readBufSize} {
		want := append(append([]string(nil), ngFrames...), tail(len(ng), n)...)
		if diff := cmp.Diff(want, rdEvents(t, append(bytes.Clone(ng), make([]byte, n)...))); diff != "" {
			t.Errorf("pcapng, %d zeros: events (-want +got):\n%s", n, diff)
		}
	}
}

// Empty records (captured length 0) are damaged records: skipped and counted, a run of them as one
// error naming its frames, so that millions of them cost neither memory nor a message each. Frame
// numbers stay Wireshark's (every record numbered). Zeros in the middle of a pcapng file are skipped
// up to the next block.
func TestEmptyRecordRuns(t *testing.T) {
	const sec = 1764086400
	p := newRdPcap(false, false, 65535, 1).frame(sec, 0, 60)
	for i := range 5 {
		p.rec(sec, uint32(1000+i), 0, uint32(i), nil) // empty, with a timestamp
	}
	p.b = append(p.b, make([]byte, 3*pcapRecHdrLen)...) // three all-zero headers
	p.frame(sec, 9, 60)
	p.rec(sec, 2000, 0, 60, nil)
	p.rec(sec, 2001, 0, 60, nil)
	p.b = append(p.b, make([]byte, 1000)...)
	want := []string{
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frames 2-6 (offset 100): 5 empty records (captured length 0)",
		"skip: frames 7-9 (offset 180): 3 empty records (all-zero headers)",
		"frame 10 if 0 EN10MB ts 1764086400009000000 len 60/60",
		"skip: frames 11-12 (offset 304): 2 empty records (captured length 0)",
		"skip: offset 336: zero-filled tail: the last 1000 bytes are zeros, not records (as a crash or a preallocated file leaves): ignored",
		"end skipped=11",
	}
	if diff := cmp.Diff(want, rdEvents(t, p.b)); diff != "" {
		t.Errorf("pcap: events (-want +got):\n%s", diff)
	}

	ng := (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60))
	for i := range 4 {
		ng.epb(0, sec*1e6+uint64(i), 60, nil)
	}
	ng.spb(0, nil)
	ng.epb(0, sec*1e6+9, 60, rdFrame(1, 60))
	at := len(ng.b)
	ng.b = append(ng.b, make([]byte, 64)...)
	ng.epb(0, sec*1e6+10, 60, rdFrame(2, 60)).spb(60, nil)
	want = []string{
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frames 2-6 (offset 140): 5 empty packet blocks (captured length 0)",
		"frame 7 if 0 EN10MB ts 1764086400000009000 len 60/60",
		fmt.Sprintf("skip: offset %d: 64 zero bytes where a block should start: skipped", at),
		"frame 8 if 0 EN10MB ts 1764086400000010000 len 60/60",
		fmt.Sprintf("skip: frame 9 (offset %d): empty simple packet block (captured length 0)", at+64+92),
		"end skipped=7",
	}
	if diff := cmp.Diff(want, rdEvents(t, ng.b)); diff != "" {
		t.Errorf("pcapng: events (-want +got):\n%s", diff)
	}
}

// A file of exactly as many records as its limit, then a zero-filled tail, is read in full: the tail
// is not a record past the limit.
func TestLimitThenZeroTail(t *testing.T) {
	w := newRdPcap(false, false, 65535, 1).frame(1764086400, 0, 60).frame(1764086400, 1, 60)
	data := append(w.b, make([]byte, 1000)...)
	r, err := NewReaderLimits(bytes.NewReader(data), Limits{MaxFrames: 2})
	want := []string{
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400001000000 len 60/60",
		"skip: offset 176: zero-filled tail: the last 1000 bytes are zeros, not records (as a crash or a preallocated file leaves): ignored",
		"end skipped=1",
	}
	if diff := cmp.Diff(want, rdEventsOf(t, r, err)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	w.rec(1764086400, 5, 0, 0, nil) // an empty record past the limit is past the limit
	r, err = NewReaderLimits(bytes.NewReader(w.b), Limits{MaxFrames: 2})
	want = append(want[:2], "fatal: frame 3 (offset 176): the input holds more than 2 records (raise the limit with --max-frames)", "end skipped=0")
	if diff := cmp.Diff(want, rdEventsOf(t, r, err)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// allocated returns the bytes fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
