package gen

import "testing"

func TestHeapOrder(t *testing.T) {
	var h evHeap
	r := newRNG(7, 0)
	for i := 0; i < 200; i++ {
		h.push(event{t: int64(r.intn(50))})
	}
	var last event
	n := 0
	for len(h.a) > 0 {
		e := h.take()
		if n > 0 && (e.t < last.t || e.t == last.t && e.seq < last.seq) {
			t.Fatalf("event %d (t %d seq %d) after (t %d seq %d)", n, e.t, e.seq, last.t, last.seq)
		}
		last = e
		n++
		// Like the generator: sometimes schedule a follow-up at or after the current time.
		if n < 400 && r.intn(2) == 0 {
			h.push(event{t: e.t + int64(r.intn(20))})
		}
		h.drop()
	}
	if n < 250 {
		t.Fatalf("only %d events", n)
	}
}
