package correlate

// EachJourney calls fn with every journey of the Result in the order Options.Journeys lists them in
// Result.Journeys (by ID), rendering one at a time from the compact state the Result keeps, so that a
// writer can stream them without holding them all; it stops when fn returns false. fn must not keep
// the pointer past its call. It calls nothing for a Result without that state (one not made by
// Correlate).
func (r *Result) EachJourney(fn func(*Journey) bool) {
	a := r.analysis
	if a == nil {
		return
	}
	for j := 0; j < a.nJ; j++ {
		if a.jFlow[j] < 0 {
			continue
		}
		jr := a.renderJourney(j)
		if !fn(&jr) {
			return
		}
	}
}
