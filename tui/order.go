package tui

import (
	"cmp"
	"encoding/binary"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/calipath/calipath/correlate"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The flow list's orders on many flows. A Result can hold hundreds of thousands of flows, and a sort
// key must still answer at once: each order's keys are computed once (for a Result, and names shown
// or not), the flows sorted by them once and kept as a permutation with the places where keys tie; a
// later press of the order, either direction, with or without a filter, only walks it. The filter's
// verdict on each flow is kept the same way until the filter changes, and the columns' widths until
// the Result or the names change.

// flowOrders is that state for one Result. Every copy of the Model shares it (flowList holds a
// pointer): what one key computes, the next finds.
type flowOrders struct {
	res   *correlate.Result
	named bool // names were shown when perm, ties and need were computed
	// perm[0] is worst first, perm[1+i] flowColumns[i] ascending: flow indexes, ties in flow order;
	// nil until the order is first used.
	perm [][]int32
	// ties[k] has bit r set when the r-th flow of perm[k] has the same key as the one before it.
	ties [][]uint64
	// need is each column's width over every flow (numbers are never cut); nil until drawn.
	need []int

	filter *correlate.Filter // the filter keep holds the verdicts of
	keep   []uint64          // bit i: flow i matches filter (nil with no filter)
	// sorts and matches count the orders sorted and the filters applied to every flow (tests check
	// that a key does not compute them again).
	sorts, matches int

	// gen counts the times perm, ties and need were dropped (sync): a step computed off the UI loop
	// for an earlier gen is stale. busy has bit s set while step s (sortNext) is computed off the UI
	// loop, and chain is set while sortNext's steps run one after another for this gen; paused while
	// they wait for an order a key asked for (merge).
	gen           int
	busy          uint64
	chain, paused bool
	gate          *gate // the steps a key waits for run urgent: the chain's wait for them
	// collect is set when the Result was loaded: the chain collects the garbage correlation left
	// before its first column's order (collectStep).
	collect bool
	// old is the columns' widths before the names shown changed, shown until need is measured again
	// off the UI loop (the numbers' widths do not depend on names).
	old []int
}

// sync drops what was computed for another Result, or with names shown differently, and the verdicts
// of another filter.
func (o *flowOrders) sync(c *common) {
	if o.res != c.res {
		*o = flowOrders{res: c.res, named: c.named(), sorts: o.sorts, matches: o.matches, gen: o.gen + 1, gate: o.gate}
	}
	if o.gate == nil {
		o.gate = newGate()
	}
	if o.perm == nil {
		o.perm, o.ties = make([][]int32, len(flowColumns)+1), make([][]uint64, len(flowColumns)+1)
	}
	if o.named != c.named() {
		o.renamed(c)
	}
	if o.filter != c.filter {
		o.filter, o.keep = c.filter, nil
		if c.filter != nil {
			o.keep = matchFlows(c.res, c.filter)
			o.matches++
		}
	}
}

// renamed drops what depends on the names shown: the widths (kept in old until measured again) and
// the orders of the columns whose texts name addresses. Steps off the UI loop under way are stale.
func (o *flowOrders) renamed(c *common) {
	if o.need != nil {
		o.old = o.need
	}
	o.named, o.need = c.named(), nil
	for i, col := range flowColumns {
		if col.byName {
			o.perm[i+1], o.ties[i+1] = nil, nil
		}
	}
	o.gen, o.busy, o.chain, o.paused = o.gen+1, 0, false, false
}

// matchFlows returns f's verdict on every flow of res, a bit a flow.
func matchFlows(res *correlate.Result, f *correlate.Filter) []uint64 {
	flows := res.Flows
	keep := make([]uint64, (len(flows)+63)/64)
	for i := range flows {
		yield(nil, i)
		if f.MatchFlow(res, &flows[i]) {
			keep[i>>6] |= 1 << (i & 63)
		}
	}
	return keep
}

// order returns the flows of order col (sortWorst or a column) ascending and its ties, sorting them
// the first time.
func (o *flowOrders) order(c *common, col int) ([]int32, []uint64) {
	o.sync(c)
	k := col + 1
	if o.perm[k] == nil {
		o.perm[k], o.ties[k] = sortFlows(c, col)
		o.sorts++
	}
	return o.perm[k], o.ties[k]
}

// ordersMsg carries one step of the flow list's work done off the UI loop for a Result and a gen of
// its flowOrders: the order of perm[stepPerm(step)], or the columns' widths. A step of sortNext's
// (chain) asks for the next; one a key asked for first (sortOne) does not.
type ordersMsg struct {
	res   *correlate.Result
	gen   int
	chain bool
	step  int
	perm  []int32
	ties  []uint64
	need  []int
}

// stepPerm is the order step s of sortNext computes (an index of perm), or -1 for the columns'
// widths: worst first (step 0), which the flow list opens with, then the widths, then each column's.
func stepPerm(s int) int {
	switch s {
	case 0:
		return 0
	case 1:
		return -1
	}
	return s - 1
}

// permStep is the step of sortNext that computes perm[k].
func permStep(k int) int {
	if k == 0 {
		return 0
	}
	return k + 1
}

// done reports whether step s of sortNext is computed.
func (o *flowOrders) done(s int) bool {
	if k := stepPerm(s); k >= 0 {
		return o.perm[k] != nil
	}
	return o.need != nil
}

// sortNext returns a Cmd that does the next step from step on that is neither done nor under way
// (nil: none left): the flow list's first order, the columns' widths, then each column's order, one
// a Cmd, off the UI loop, so that neither the list's first view nor the first press of a sort key
// waits for them. The Model takes each (merge) and asks for the next.
func (l *flowList) sortNext(c *common, step int) tea.Cmd {
	o := l.ord
	o.sync(c)
	for ; step <= len(o.perm); step++ {
		if !o.done(step) && o.busy&(1<<step) == 0 {
			break
		}
	}
	o.chain = step <= len(o.perm)
	if o.collect && step >= 2 { // also when the orders left are all done or under way (keys')
		o.chain = true
		return o.collectStep()
	}
	if !o.chain {
		return nil
	}
	return o.start(c, step, true)
}

// collectedMsg says the chain's collection (collectStep) is done for a Result and gen.
type collectedMsg struct {
	res *correlate.Result
	gen int
}

// collectStep returns the Cmd that collects the garbage correlation left, once the flow list's first
// order and widths are computed: the Result's working state was dropped when it was built, but until
// a collection frees it the other orders' keys come on top of it, and the heap's next collection is
// due only past the correlation's peak. It runs after them so that neither the list's first view nor
// a key pressed right after the overview waits for it.
func (o *flowOrders) collectStep() tea.Cmd {
	o.collect = false
	msg := collectedMsg{res: o.res, gen: o.gen}
	return func() tea.Msg {
		runtime.GC()
		return msg
	}
}

// collected goes on with the chain after its collection, as merge does after a step.
func (l *flowList) collected(c *common, msg collectedMsg) tea.Cmd {
	o := l.ord
	o.sync(c)
	switch {
	case msg.res != o.res || msg.gen != o.gen:
		return nil
	case l.wanting:
		o.paused = true
		return nil
	}
	return l.sortNext(c, 2)
}

// sortOne returns a Cmd that sorts order col off the UI loop, unless it is sorted or under way (nil).
func (l *flowList) sortOne(c *common, col int) tea.Cmd {
	o := l.ord
	o.sync(c)
	if s := permStep(col + 1); !o.done(s) && o.busy&(1<<s) == 0 {
		return o.start(c, s, false)
	}
	return nil
}

// start marks step under way and returns the Cmd that computes it: a step of the chain waits for
// the urgent ones at its yields (gate); one a key asked for (not chain) is urgent.
func (o *flowOrders) start(c *common, step int, chain bool) tea.Cmd {
	o.busy |= 1 << step
	snap := *c // what the orders depend on (the Result, the names) as they are now
	snap.bg = nil
	msg := ordersMsg{res: snap.res, gen: o.gen, chain: chain, step: step}
	g := o.gate
	if chain {
		snap.bg = g
	}
	return func() tea.Msg {
		if !chain {
			g.begin()
			defer g.end()
		}
		if k := stepPerm(step); k < 0 {
			msg.need = measureFlows(&snap)
		} else {
			msg.perm, msg.ties = sortFlows(&snap, k-1)
		}
		return msg
	}
}

// merge takes the step's result unless a key computed it first or it is stale (another Result, or
// the names shown changed since), shows the order a key asked for if it is the one that landed
// (landed), and returns the Cmd of the next step of a chain (nil after a stale one). While a key
// waits for its order the chain pauses, so that on one core the order has it to itself; it goes on
// once the order lands.
func (l *flowList) merge(c *common, msg ordersMsg) tea.Cmd {
	o := l.ord
	o.sync(c)
	if msg.res != o.res || msg.gen != o.gen || msg.step < 0 || msg.step > len(o.perm) {
		return nil
	}
	o.busy &^= 1 << msg.step
	switch k := stepPerm(msg.step); {
	case k < 0 && o.need == nil:
		o.need = msg.need
	case k >= 0 && o.perm[k] == nil:
		o.perm[k], o.ties[k] = msg.perm, msg.ties
	}
	cmd := l.landed(c)
	switch {
	case msg.chain && l.wanting:
		o.paused = true
	case msg.chain:
		return tea.Batch(cmd, l.sortNext(c, msg.step+1))
	case o.paused && !l.wanting:
		o.paused = false
		return tea.Batch(cmd, l.sortNext(c, 0))
	}
	return cmd
}

// sortFlows sorts the flows by order col, ties in flow order, and marks where keys tie. The keys
// are laid out in blocks of their own (numbers, texts in one block), so that the sort reads memory in
// order rather than each flow's fields, and sorted by radix (orderBy). The keys and texts are a
// sortScratch's, taken from sortPool and given back: the orders are sorted one after another once a
// Result is shown, and fresh keys for each would be garbage enough (tens of MB on 200,000 flows) to
// grow the process past the correlation's peak before a collection frees them.
func sortFlows(c *common, col int) ([]int32, []uint64) {
	sc := sortPool.Get().(*sortScratch)
	sc.g = c.bg
	defer func() {
		sc.g = nil
		sortPool.Put(sc)
	}()
	switch {
	case col == sortWorst:
		return sortWorstFirst(sc, c.res.Flows)
	case flowColumns[col].num != nil:
		return sortNums(sc, c.res.Flows, flowColumns[col].num)
	case flowColumns[col].side != nil && !c.named():
		if perm, ties, ok := sortEndpoints(sc, c.res.Flows, flowColumns[col].side); ok {
			return perm, ties
		}
	}
	return sortTexts(c, sc, col)
}

// sortScratch is the keys and texts sortFlows sorts by, kept in sortPool for the next order: each
// flow's text (text, offs[i] to offs[i+1]), orderBy's keys (cols: numbers, or a text's first 16
// bytes), packed keys (vals) and items (a, b); g is the gate the sort waits for at its yields
// (common.bg).
type sortScratch struct {
	g    *gate
	text []byte
	offs []int
	cols [][]uint64
	vals []uint64
	a, b []radixItem
}

var sortPool = sync.Pool{New: func() any { return new(sortScratch) }}

// resize returns *s with n elements, growing it when it holds fewer.
func resize[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	*s = (*s)[:n]
	return *s
}

// worstKey is a flow's (i) key worst first.
type worstKey struct {
	lost, resets, retx, notCaptured, packets, num int
	i                                             int32
}

// worstCompare orders flows worst first, as the report lists flows (most lost, then resets,
// retransmissions, packets not captured, packets; then by ID).
func worstCompare(a, b worstKey) int {
	return cmp.Or(-cmp.Compare(a.lost, b.lost), -cmp.Compare(a.resets, b.resets), -cmp.Compare(a.retx, b.retx),
		-cmp.Compare(a.notCaptured, b.notCaptured), -cmp.Compare(a.packets, b.packets), cmp.Compare(a.num, b.num))
}

// prefix is bytes off to off+8 of s as a big-endian number, zeros past its end: numbers compare as
// the bytes do, and when two are equal the texts decide.
func prefix(s []byte, off int) uint64 {
	if len(s) >= off+8 {
		return binary.BigEndian.Uint64(s[off:])
	}
	var p uint64
	for j := off; j < off+8; j++ {
		p <<= 8
		if j < len(s) {
			p |= uint64(s[j])
		}
	}
	return p
}

// hasBit reports whether bit i of bits is set.
func hasBit(bits []uint64, i int) bool { return bits[i>>6]&(1<<(i&63)) != 0 }

// walk calls emit with the flows of perm the filter keeps (keep nil: all), ascending or, with desc,
// descending with ties still in flow order.
func walk(perm []int32, ties, keep []uint64, desc bool, emit func(i int)) {
	put := func(run []int32) {
		for _, i := range run {
			if keep == nil || hasBit(keep, int(i)) {
				emit(int(i))
			}
		}
	}
	if !desc {
		put(perm)
		return
	}
	for r := len(perm); r > 0; {
		s := r - 1
		for s > 0 && hasBit(ties, s) {
			s--
		}
		put(perm[s:r])
		r = s
	}
}

// widths returns each column's width over every flow, measuring them the first time; on many flows,
// after the names shown changed, the widths from before while they are measured again off the UI loop.
func (o *flowOrders) widths(c *common) []int {
	o.sync(c)
	if o.need == nil && o.old != nil && len(c.res.Flows) > syncSortFlows && (o.chain || o.busy&(1<<1) != 0) {
		return o.old
	}
	if o.need == nil {
		o.need = measureFlows(c)
	}
	return o.need
}

// measureFlows finds each column's width over every flow of the Result: the widest value, at least
// the column's minimum and its name with a sort arrow; text columns at most 40. Numbers are measured
// by their widest values rather than formatted one by one. Each flow is read once, for every column
// (widthMeter): the flows are hundreds of bytes apart, and a pass over them a column cost as much
// again as the measuring.
func measureFlows(c *common) []int {
	flows := c.res.Flows
	meters := make([]widthMeter, len(flowColumns))
	for i, col := range flowColumns {
		if col.widest != nil {
			meters[i] = col.widest()
		} else {
			meters[i] = &textMeter{text: col.text}
		}
	}
	for fi := range flows {
		yield(c.bg, fi)
		for _, m := range meters {
			m.add(c, &flows[fi])
		}
	}
	need := make([]int, len(flowColumns))
	for i, col := range flowColumns {
		w := max(col.width, ansi.StringWidth(col.name)+1, meters[i].width())
		if !col.right {
			w = min(w, max(40, col.width))
		}
		need[i] = w
	}
	return need
}

// widthMeter measures a column's widest text over the flows, given one at a time (add).
type widthMeter interface {
	add(c *common, f *correlate.Flow)
	width() int
}

// textMeter measures each flow's text.
type textMeter struct {
	text func(c *common, f *correlate.Flow) string
	w    int
}

func (m *textMeter) add(c *common, f *correlate.Flow) { m.w = max(m.w, textWidth(m.text(c, f))) }
func (m *textMeter) width() int                       { return m.w }

// textWidth is ansi.StringWidth, at once for printable ASCII.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// widestCount measures the widest fmtCount of the flows' values.
func widestCount(v func(f *correlate.Flow) int) func() widthMeter {
	return func() widthMeter { return &countMeter{v: v} }
}

// countMeter keeps the extremes: fmtCount grows with the magnitude, so they are the widest.
type countMeter struct {
	v      func(f *correlate.Flow) int
	lo, hi int
	any    bool
}

func (m *countMeter) add(_ *common, f *correlate.Flow) {
	v := m.v(f)
	if !m.any {
		m.lo, m.hi, m.any = v, v, true
	}
	m.lo, m.hi = min(m.lo, v), max(m.hi, v)
}

func (m *countMeter) width() int {
	if !m.any {
		return 0
	}
	return max(textWidth(fmtCount(m.lo)), textWidth(fmtCount(m.hi)))
}

// widestFlowLat measures the widest flow latency as the list prints it: fmtDur of the flows' values,
// one cell wider when some flow's is marked as a bound (correlate.Flow.Mark; "?" is narrower than any).
func widestFlowLat(v func(f *correlate.Flow) int64) func() widthMeter {
	return func() widthMeter { return &flowLatMeter{durMeter: durMeter{v: v}} }
}

// flowLatMeter is a durMeter that also notes whether a flow's latency is marked as a bound.
type flowLatMeter struct {
	durMeter
	marked bool
}

func (m *flowLatMeter) add(c *common, f *correlate.Flow) {
	m.durMeter.add(c, f)
	if f.ClockBound == correlate.BoundLower || f.ClockBound == correlate.BoundUpper {
		m.marked = true
	}
}

func (m *flowLatMeter) width() int {
	if m.marked {
		return m.durMeter.width() + 1
	}
	return m.durMeter.width()
}

// durMeter keeps the largest magnitude of each unit and sign: fmtDur's width grows with the
// magnitude within each of its units, and a negative value is one cell wider than its magnitude.
type durMeter struct {
	v    func(f *correlate.Flow) int64
	top  [2][5]int64 // [negative][unit]: the largest magnitude
	seen [2][5]bool
	w    int
}

func (m *durMeter) add(_ *common, f *correlate.Flow) {
	ns, neg := m.v(f), 0
	if ns < 0 {
		ns, neg = -ns, 1
	}
	if ns < 0 { // the most negative int64 has no magnitude: formatted as it is
		m.w = max(m.w, textWidth(fmtDur(m.v(f))))
		return
	}
	u := 0
	for _, lim := range [...]int64{1000, 10_000, 1_000_000, 1_000_000_000} {
		if ns >= lim {
			u++
		}
	}
	if !m.seen[neg][u] || ns > m.top[neg][u] {
		m.top[neg][u], m.seen[neg][u] = ns, true
	}
}

func (m *durMeter) width() int {
	w := m.w
	for neg := range m.top {
		for u, mag := range m.top[neg] {
			if m.seen[neg][u] {
				s := fmtDur(mag)
				if neg == 1 {
					s = "-" + s
				}
				w = max(w, textWidth(s))
			}
		}
	}
	return w
}

// plainASCII reports whether s is printable ASCII: clean leaves it as it is, one cell a byte.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			return false
		}
	}
	return true
}

// appendEndpoint appends endpoint(c, *e) to b, without making the string when it is an address.
func appendEndpoint(b []byte, c *common, e *correlate.Endpoint) []byte {
	if c.named() || !plainASCII(e.IP) {
		return append(b, endpoint(c, *e)...)
	}
	v6 := e.Port != 0 && strings.IndexByte(e.IP, ':') >= 0
	if v6 {
		b = append(b, '[')
	}
	b = append(b, e.IP...)
	if v6 {
		b = append(b, ']')
	}
	if e.Port != 0 {
		b = strconv.AppendUint(append(b, ':'), uint64(e.Port), 10)
	}
	return b
}

// widestEndpoint measures the widest endpoint(c, side(f)) of the flows.
func widestEndpoint(side func(f *correlate.Flow) *correlate.Endpoint) func() widthMeter {
	return func() widthMeter { return &endpointMeter{side: side} }
}

// widestClient measures the widest client cell (clientCell): the source endpoint, and the "? " of a
// flow whose opener is not shown.
func widestClient() widthMeter { return &endpointMeter{side: srcOf, marked: true} }

// endpointMeter measures an address's text by its length with the port's; only an address that
// could be wider than the widest so far is read. With marked (the client column), a flow that
// clientCell may mark (a UDP or TCP flow without NAT) counts "? " more when it does (openerNotShown, asked
// only of a flow that would then be the widest).
type endpointMeter struct {
	side   func(f *correlate.Flow) *correlate.Endpoint
	w      int
	marked bool
}

func (m *endpointMeter) add(c *common, f *correlate.Flow) {
	e := m.side(f)
	mark := 0
	if m.marked && (f.Proto == "udp" || f.Proto == "tcp") && len(f.NAT) == 0 {
		mark = 2
	}
	if !c.named() && len(e.IP)+8+mark <= m.w { // "[", "]", ":" and five digits at most
		return
	}
	var n int
	if c.named() || !plainASCII(e.IP) {
		n = textWidth(endpoint(c, *e))
	} else {
		n = len(e.IP)
		if e.Port != 0 {
			n += 1 + digits(e.Port)
			if strings.IndexByte(e.IP, ':') >= 0 {
				n += 2
			}
		}
	}
	if mark > 0 && n+mark > m.w && openerNotShown(c, f) != "" {
		n += mark
	}
	m.w = max(m.w, n)
}

func (m *endpointMeter) width() int { return m.w }

// digits is the number of decimal digits of p.
func digits(p uint16) int {
	n := 1
	for ; p >= 10; p /= 10 {
		n++
	}
	return n
}
