package gen

// Event kinds.
const (
	evSend       uint8 = iota // a flow's next packet is due
	evCapture                 // a packet reaches a capture point
	evDup                     // a duplicate of a capture is written
	evRetrans                 // a TCP segment is resent
	evARPReply                // the proxy ARP reply on a cali
	evARPRequest              // an extra proxy ARP request on a cali (Config.ARPRate)
)

// event is one pending action, ordered by time then by insertion sequence (deterministic ties).
type event struct {
	t    int64
	seq  uint64
	pk   *packet
	fl   *flow
	pod  int32
	hop  int8
	kind uint8
}

// evHeap is a binary min-heap of events, without container/heap's interface overhead.
//
// The run loop peeks at the top event and marks it stale while handling it: the handler's first push
// then overwrites the top and sifts down (one sift instead of a pop and a push), and if the handler
// pushes nothing, drop removes it.
type evHeap struct {
	a     []event
	seq   uint64
	stale bool
}

func (h *evHeap) less(i, j int) bool {
	a, b := &h.a[i], &h.a[j]
	return a.t < b.t || a.t == b.t && a.seq < b.seq
}

func (h *evHeap) push(e event) {
	h.seq++
	e.seq = h.seq
	if h.stale {
		h.stale = false
		h.a[0] = e
		h.down(0)
		return
	}
	h.a = append(h.a, e)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

// take returns the top event and marks it stale (see evHeap).
func (h *evHeap) take() event {
	h.stale = true
	return h.a[0]
}

// drop removes the top event if it is still stale.
func (h *evHeap) drop() {
	if !h.stale {
		return
	}
	h.stale = false
	n := len(h.a) - 1
	h.a[0] = h.a[n]
	h.a[n] = event{}
	h.a = h.a[:n]
	h.down(0)
}

func (h *evHeap) down(i int) {
	n := len(h.a)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.a[i], h.a[m] = h.a[m], h.a[i]
		i = m
	}
}
