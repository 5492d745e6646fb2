package decode

// The counter of a WireGuard message seen as IP fragments.
//
// A fragment's Observation.Seq is its IP identification (so that the later fragments, which carry no
// UDP header, are joined to the first), so the first fragment of a transport message has no room for
// its counter's low 32 bits. Such frames are few (a link with an MTU below the WireGuard MTU plus 60
// bytes fragments the large messages): the Tables keep their counter's low bits by frame.

// AddWGFragCounter records the low 32 bits of the counter of the transport message whose first IP
// fragment is frame of source src.
func (t *Tables) AddWGFragCounter(src uint16, frame uint32, counter uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wgFrag == nil {
		t.wgFrag = map[uint64]uint32{}
	}
	t.wgFrag[uint64(src)<<32|uint64(frame)] = uint32(counter)
}

// WGFragCounter returns the counter of the transport message whose first IP fragment is Observation o,
// frame number frame (its high 32 bits from the frame's header context ctx); false when o is no such
// fragment.
func (t *Tables) WGFragCounter(o *Observation, frame uint32, ctx *HdrCtx) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lo, ok := t.wgFrag[uint64(o.Source)<<32|uint64(frame)]
	if !ok {
		return 0, false
	}
	return ctx.WGCounter(lo), true
}
