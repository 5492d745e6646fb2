package tui

import "github.com/calipath/calipath/correlate"

// The flow list's first view on many flows. Its first order (worst first) and the columns' widths
// take tens of milliseconds on 200,000 flows. Computed off the UI loop once the overview shows
// (sortNext), they were still under way when the flows key came right after it, and the key waited
// for them, on one core with the rest of that chain's work. So the loading goroutine computes them
// before it hands the Result over (loadCmd): the overview shows that much later, a small part of the
// loading's seconds, and the flows key then only lays the rows out and draws them.

// firstOrder is the flow list's first order (worst first) and the columns' widths, computed for a
// Result with names shown or not (named) as a common with no names hidden shows them.
type firstOrder struct {
	res   *correlate.Result
	named bool
	perm  []int32
	ties  []uint64
	need  []int
}

// prepareFirst computes the flow list's first order and widths for res, on many flows (nil on
// fewer: the list sorts and measures those on the UI loop at once).
func prepareFirst(res *correlate.Result) *firstOrder {
	if res == nil || len(res.Flows) <= syncSortFlows {
		return nil
	}
	c := &common{res: res}
	f := &firstOrder{res: res, named: c.named()}
	f.perm, f.ties = sortFlows(c, sortWorst)
	f.need = measureFlows(c)
	return f
}

// adopt takes the first order and widths computed while loading (prepareFirst) when they were
// computed for the Result shown with the names shown as they are now (the names key, or another
// Result, leaves them: the list computes its own as before).
func (o *flowOrders) adopt(c *common, f *firstOrder) {
	if f == nil || f.res != c.res || f.named != c.named() {
		return
	}
	o.sync(c)
	if o.perm[0] == nil {
		o.perm[0], o.ties[0] = f.perm, f.ties
		o.sorts++
	}
	if o.need == nil {
		o.need = f.need
	}
}
