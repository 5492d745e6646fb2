package decode

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An input that goes on and on (a FIFO fed from /dev/zero, a gzip bomb) stops at its limit with an
// error that names it and the flag that raises it; so does one with more records or bytes than its
// limits, and the records before the limit are read. Limits are exact: an input of exactly the
// limit is read in full.
func TestLimits(t *testing.T) {
	const sec = 1764086400
	hdr := newRdPcap(false, false, 65535, 1).b
	ten := newRdPcap(false, false, 65535, 1)
	for i := range 10 {
		ten.frame(sec, i, 100) // 116 bytes each, from offset 24
	}
	frames := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("frame %d if 0 EN10MB ts %d len 100/100", i+1, int64(sec)*1e9+int64(i)*1e6))
		}
		return out
	}
	ng := (&ngBuf{}).shb().idb(1, 0)
	for i := range 3 {
		ng.epb(0, sec*1e6+uint64(i), 60, rdFrame(i, 60))
	}
	big := (&ngBuf{}).shb().idb(1, 0).block(0x1234, make([]byte, 3<<20)).epb(0, 1, 60, rdFrame(0, 60)).b
	cases := []struct {
		name string
		in   io.Reader
		lim  Limits
		want []string
	}{
		{"endless zeros, default limits", io.MultiReader(bytes.NewReader(hdr), zeroStream{}), Limits{}, []string{
			"skip: frames 1-100000000 (offset 24): 100000000 empty records (all-zero headers)",
			"fatal: frame 100000001 (offset 1600000024): the input holds more than 100,000,000 records (raise the limit with --max-frames)",
			"end skipped=100000000",
		}},
		{"endless zeros, 1000 records", io.MultiReader(bytes.NewReader(hdr), zeroStream{}), Limits{MaxFrames: 1000}, []string{
			"skip: frames 1-1000 (offset 24): 1000 empty records (all-zero headers)",
			"fatal: frame 1001 (offset 16024): the input holds more than 1,000 records (raise the limit with --max-frames)",
			"end skipped=1000",
		}},
		{"endless zeros after pcapng blocks, 1 MiB", io.MultiReader(bytes.NewReader(ng.b), zeroStream{}), Limits{MaxBytes: 1 << 20}, append(frames(0),
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
			"frame 2 if 0 EN10MB ts 1764086400000001000 len 60/60",
			"frame 3 if 0 EN10MB ts 1764086400000002000 len 60/60",
			"fatal: the input holds more than 1,048,576 bytes (raise the limit with --max-bytes)",
			"end skipped=0",
		)},
		{"gzip'd endless zeros", bytes.NewReader(rdGzip(append(bytes.Clone(hdr), make([]byte, 4<<20)...))), Limits{MaxBytes: 1 << 20}, []string{
			"fatal: the input holds more than 1,048,576 bytes decompressed (raise the limit with --max-bytes)",
			"end skipped=0",
		}},
		{"4 records", bytes.NewReader(ten.b), Limits{MaxFrames: 4}, append(frames(4),
			"fatal: frame 5 (offset 488): the input holds more than 4 records (raise the limit with --max-frames)",
			"end skipped=0")},
		{"600 bytes", bytes.NewReader(ten.b), Limits{MaxBytes: 600}, append(frames(4),
			"fatal: the input holds more than 600 bytes (raise the limit with --max-bytes)",
			"end skipped=0")},
		{"exactly its size", bytes.NewReader(ten.b), Limits{MaxBytes: int64(len(ten.b)), MaxFrames: 10}, append(frames(10),
			"end skipped=0")},
		{"a byte short", bytes.NewReader(ten.b), Limits{MaxBytes: int64(len(ten.b)) - 1}, append(frames(9),
			"fatal: the input holds more than 1,183 bytes (raise the limit with --max-bytes)",
			"end skipped=0")},
		{"pcapng, 2 records", bytes.NewReader(ng.b), Limits{MaxFrames: 2}, []string{
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
			"frame 2 if 0 EN10MB ts 1764086400000001000 len 60/60",
			"fatal: frame 3 (offset 232): the input holds more than 2 records (raise the limit with --max-frames)",
			"end skipped=0",
		}},
		{"pcapng, a block skipped past the limit", bytes.NewReader(big), Limits{MaxBytes: 2 << 20}, []string{
			"fatal: the input holds more than 2,097,152 bytes (raise the limit with --max-bytes)",
			"end skipped=0",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReaderLimits(c.in, c.lim)
			if diff := cmp.Diff(c.want, rdEventsOf(t, r, err)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
