package correlate

// WithFlows returns the Result with its flows listed in Flows, as Correlate without
// Options.StreamFlows lists them, for a reader that shows the rest of a Result whose flows were
// streamed (FlowsStreamed) before its flows (the TUI: its overview reads the Summary, not the flows).
// It renders them from the state the Result keeps, as EachFlow does, into a copy of the Result: r is
// not changed, and may be read meanwhile; the copy shares the rest of r. A Result that lists its
// flows is returned as it is.
func (r *Result) WithFlows() *Result {
	if !r.flowsStreamed {
		return r
	}
	full := *r
	full.Flows = r.analysis.flowOut(r.analysis.ids)
	full.flowsStreamed = false
	return &full
}
