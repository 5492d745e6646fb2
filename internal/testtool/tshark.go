package testtool

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TsharkFrame is one frame as tshark dissected it: field → its occurrences in the frame, outer first.
type TsharkFrame map[string][]string

// tsharkChunk is how many capture files one tshark run reads: mergecap opens them all at once, with
// a marker before each, so this keeps it within a 256-descriptor limit.
const tsharkChunk = 100

// markerType is the EtherType of the frame that precedes each file in the merged capture (IEEE 802
// local experimental EtherType 1: no capture of Calico traffic carries it).
const markerType = "0x88b5"

// TsharkFields dissects every frame of files with `tshark -n -T fields`, the options opts and one -e per
// field, and returns for each file (in the order given) its frames by frame number in that file. It
// starts one tshark per hundred files, not one per file (each start loads every dissector, about a
// second of CPU): mergecap concatenates the files (-a, keeping every interface: -I none) into one
// pcapng, a one-frame marker capture before each, and the frames are given back to their files by
// the markers, which tshark itself must find, one per file. Files are read by Wireshark's own
// readers, never rewritten by calipath. The test is skipped without tshark or mergecap (see Path).
func TsharkFields(t testing.TB, files, opts, fields []string) []map[uint32]TsharkFrame {
	t.Helper()
	bin := Path(t, Tshark)
	merge := Path(t, Mergecap)
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker.pcap")
	if err := os.WriteFile(marker, markerPcap(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := make([]map[uint32]TsharkFrame, len(files))
	errs := make([]error, (len(files)+tsharkChunk-1)/tsharkChunk)
	var wg sync.WaitGroup
	for c := range errs {
		lo, hi := c*tsharkChunk, min((c+1)*tsharkChunk, len(files))
		wg.Go(func() {
			merged := filepath.Join(dir, fmt.Sprintf("merged-%d.pcapng", c))
			errs[c] = tsharkMerged(bin, merge, marker, merged, files[lo:hi], opts, fields, out[lo:hi])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tsharkMerged merges files into merged, runs tshark over it and fills out, one map per file.
func tsharkMerged(bin, merge, marker, merged string, files, opts, fields []string, out []map[uint32]TsharkFrame) error {
	margs := []string{"-a", "-I", "none", "-F", "pcapng", "-w", merged}
	for _, f := range files {
		margs = append(margs, marker, f)
	}
	if b, err := exec.Command(merge, margs...).CombinedOutput(); err != nil {
		return fmt.Errorf("mergecap of %s … %s: %v\n%s", files[0], files[len(files)-1], err, b)
	}
	args := append([]string{"-n", "-r", merged, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
		"-E", "aggregator=,", "-e", "frame.number", "-e", "eth.type"}, opts...)
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("tshark over %s … %s: %v\n%s", files[0], files[len(files)-1], err, stderr.String())
	}
	file, base := -1, uint64(0)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) != len(fields)+2 {
			return fmt.Errorf("tshark: %d columns in %q, want %d", len(cols), sc.Text(), len(fields)+2)
		}
		n, err := strconv.ParseUint(cols[0], 10, 32)
		if err != nil {
			return fmt.Errorf("tshark: frame number %q", cols[0])
		}
		if cols[1] == markerType {
			if file++; file == len(files) {
				return fmt.Errorf("tshark: marker frame %d is one more than the %d files merged", n, len(files))
			}
			out[file], base = map[uint32]TsharkFrame{}, n
			continue
		}
		if file < 0 {
			return fmt.Errorf("tshark: frame %d before the first marker", n)
		}
		f := TsharkFrame{}
		for i, c := range cols[2:] {
			if c != "" {
				f[fields[i]] = strings.Split(c, ",")
			}
		}
		out[file][uint32(n-base)] = f
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("tshark: %v", err)
	}
	if file != len(files)-1 {
		return fmt.Errorf("tshark found %d markers in the merge of %d files", file+1, len(files))
	}
	return nil
}

// markerPcap returns a classic pcap of one Ethernet frame of markerType.
func markerPcap() []byte {
	frame := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5},
		"calipath test: the frames after this one are the next file's"...)
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)     // thiszone
	b = le.AppendUint32(b, 0)     // sigfigs
	b = le.AppendUint32(b, 65535) // snaplen
	b = le.AppendUint32(b, 1)     // LINKTYPE_ETHERNET
	b = le.AppendUint32(b, 0)     // seconds
	b = le.AppendUint32(b, 0)     // microseconds
	b = le.AppendUint32(b, uint32(len(frame)))
	b = le.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}
