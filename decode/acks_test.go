package decode

import "testing"

// ReadAcks reads frames of a lab capture again: pod-b's FIN (frame 42, an ACK of pod-a's data) and
// pod-a's ACK of it (frame 47, the FIN's sequence number + 1), as tshark shows them; a frame past the
// file's end and standard input give nothing.
func TestReadAcks(t *testing.T) {
	const path = "../testdata/lab/scenarios/clock-skew/node-a-any.pcap"
	ack, ok := ReadAcks(path, []uint32{42, 47, 100000}, Options{})
	want := []uint32{3403244645, 3319178800}
	for i, w := range want {
		if !ok[i] || ack[i] != w {
			t.Errorf("frame %d: ack %d (read %v), want %d", []uint32{42, 47}[i], ack[i], ok[i], w)
		}
	}
	if ok[2] {
		t.Errorf("a frame past the end read: ack %d", ack[2])
	}
	if _, ok := ReadAcks("-", []uint32{1}, Options{}); ok[0] {
		t.Error("standard input read twice")
	}
}
