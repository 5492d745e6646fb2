package correlate

import (
	"net/netip"
	"strings"
)

// MatchFlow's evaluation. What the filter alone decides is derived once: the expression is compiled
// into prog when parsed, and each name term's verdict on every cluster name when the filter first
// meets a Result. Per flow, the terms read the flow's fields in place; the addresses and ports of its
// two sides (before and after NAT) are parsed into fixed arrays on the stack once, when a term first
// needs them. A node or point glob decides each distinct capture point once (points are few, flows
// many): per flow it looks the point's verdict up. Nothing is allocated per flow unless a side has
// more than sideCap addresses or the flow shows a point not met before.

// cnode is a node of the compiled expression: an operator over other nodes (indexes in prog), or a
// term (an index in terms).
type cnode struct {
	op   uint8
	a, b int32
}

const (
	opAnd uint8 = iota
	opOr
	opNot
	opTerm
)

// cterm is a term with what it derives from its value and, per Result, from the cluster names.
type cterm struct {
	fterm
	lit   bool   // val has no glob pattern characters: globMatch is plain equality
	names []bool // pod, svc, ns, node: the verdict on each of r.Names
	// node, point: the verdict on each capture point of f.pointIdx, decided when first met
	points []verdict
}

// verdict is a term's cached decision on one thing: not yet decided, true or false.
type verdict uint8

const (
	undecided verdict = iota
	verdictTrue
	verdictFalse
)

// compile appends n and its operands to f.prog, operands first, and returns n's index.
func (f *Filter) compile(n fnode) int32 {
	var c cnode
	switch n := n.(type) {
	case fand:
		c = cnode{op: opAnd, a: f.compile(n.l), b: f.compile(n.r)}
	case f_or:
		c = cnode{op: opOr, a: f.compile(n.l), b: f.compile(n.r)}
	case fnot:
		c = cnode{op: opNot, a: f.compile(n.x)}
	case fterm:
		f.terms = append(f.terms, cterm{fterm: n, lit: !strings.ContainsAny(n.val, `*?[\`)})
		c = cnode{op: opTerm, a: int32(len(f.terms) - 1)}
	}
	f.prog = append(f.prog, c)
	return int32(len(f.prog) - 1)
}

// bindNames indexes r's names by address and decides each name term on every name.
func (f *Filter) bindNames(r *Result) {
	f.nameIdx, f.pointIdx = nil, nil
	for i := range f.terms {
		f.terms[i].names, f.terms[i].points = nil, nil
	}
	if r == nil || len(r.Names) == 0 {
		return
	}
	f.nameIdx = make(map[netip.Addr]int32, len(r.Names))
	for i, n := range r.Names {
		a, err := netip.ParseAddr(n.IP)
		// NameOf compares the text: a name is found by the address that prints as its IP, and the
		// first of equal IPs wins.
		if err != nil || a.String() != n.IP {
			continue
		}
		if _, dup := f.nameIdx[a]; !dup {
			f.nameIdx[a] = int32(i)
		}
	}
	for i := range f.terms {
		t := &f.terms[i]
		switch t.key {
		case "pod", "svc", "ns", "node":
		default:
			continue
		}
		t.names = make([]bool, len(r.Names))
		for k, n := range r.Names {
			t.names[k] = t.nameMatch(&n)
		}
	}
}

// nameMatch is a name term's verdict on one cluster name.
func (t *cterm) nameMatch(n *Name) bool {
	switch t.key {
	case "pod":
		return (n.Kind == "pod" || n.Kind == "host-network-pod") && (globMatch(t.val, n.String()) || globMatch(t.val, n.Name))
	case "svc":
		return n.Kind == "service" && (globMatch(t.val, n.String()) || globMatch(t.val, n.Name))
	case "ns":
		return n.Namespace != "" && globMatch(t.val, n.Namespace)
	case "node":
		return n.Kind == "node" && globMatch(t.val, n.Name) || n.Node != "" && globMatch(t.val, n.Node)
	}
	return false
}

// match is globMatch(t.val, s), plain equality when the value is no pattern.
func (t *cterm) match(s string) bool {
	if t.lit {
		return t.val == s
	}
	return globMatch(t.val, s)
}

// sideCap is how many addresses and ports a side holds without allocating: the endpoint and two NAT
// mappings' two ends each.
const sideCap = 5

// fside is the addresses and ports of one side of a flow (as endpoints), on the stack.
type fside struct {
	addrs     [sideCap]netip.Addr
	ports     [sideCap]uint16
	na, np    int
	moreAddrs []netip.Addr // beyond sideCap
	morePorts []uint16
}

func (e *fside) addAddr(a netip.Addr) {
	if e.na < sideCap {
		e.addrs[e.na] = a
		e.na++
		return
	}
	e.moreAddrs = append(e.moreAddrs, a)
}

func (e *fside) addPort(p uint16) {
	if e.np < sideCap {
		e.ports[e.np] = p
		e.np++
		return
	}
	e.morePorts = append(e.morePorts, p)
}

func (e *fside) nAddrs() int { return e.na + len(e.moreAddrs) }

func (e *fside) addr(k int) netip.Addr {
	if k < e.na {
		return e.addrs[k]
	}
	return e.moreAddrs[k-e.na]
}

func (e *fside) nPorts() int { return e.np + len(e.morePorts) }

func (e *fside) port(k int) uint16 {
	if k < e.np {
		return e.ports[k]
	}
	return e.morePorts[k-e.np]
}

// flowCtx is one flow under evaluation.
type flowCtx struct {
	f     *Filter
	fl    *Flow
	sided bool     // sides filled
	sides [2]fside // src, dst
}

// fill parses the flow's sides as flowSubject does (its src side first).
func (c *flowCtx) fill() {
	c.sided = true
	fl := c.fl
	ported := fl.Proto != "icmp" && fl.Proto != "icmpv6"
	var src0 netip.AddrPort // the flow's source endpoint as listed
	for i, ep := range [2]*Endpoint{&fl.Src, &fl.Dst} {
		a, err := netip.ParseAddr(ep.IP)
		if err != nil {
			continue
		}
		a = a.Unmap()
		if i == 0 {
			src0 = netip.AddrPortFrom(a, ep.Port)
		}
		c.sides[i].addAddr(a)
		if ported {
			c.sides[i].addPort(ep.Port)
		}
	}
	for k := range fl.NAT {
		n := &fl.NAT[k]
		var from, to [2]netip.AddrPort
		from[0], from[1] = natEnds(n.From)
		to[0], to[1] = natEnds(n.To)
		first, second := &c.sides[0], &c.sides[1]
		if src0.IsValid() && (from[1] == src0 || to[1] == src0) && from[0] != src0 && to[0] != src0 {
			first, second = second, first
		}
		first.addNAT(from[0], ported)
		first.addNAT(to[0], ported)
		second.addNAT(from[1], ported)
		second.addNAT(to[1], ported)
	}
}

// addNAT adds a NAT mapping's endpoint, as addNATEnd.
func (e *fside) addNAT(ap netip.AddrPort, ported bool) {
	if !ap.IsValid() {
		return
	}
	e.addAddr(ap.Addr().Unmap())
	if ported {
		e.addPort(ap.Port())
	}
}

// evalFlow evaluates node i of prog on a flow.
func (f *Filter) evalFlow(i int32, c *flowCtx) bool {
	n := &f.prog[i]
	switch n.op {
	case opAnd:
		return f.evalFlow(n.a, c) && f.evalFlow(n.b, c)
	case opOr:
		return f.evalFlow(n.a, c) || f.evalFlow(n.b, c)
	case opNot:
		return !f.evalFlow(n.a, c)
	}
	return f.termFlow(&f.terms[n.a], c)
}

// termFlow evaluates a term on a flow, as fterm.eval does on its subject.
func (f *Filter) termFlow(t *cterm, c *flowCtx) bool {
	fl := c.fl
	switch t.key {
	case "host", "net", "port", "portrange", "pod", "ns", "svc":
		if !c.sided {
			c.fill()
		}
		for i := range c.sides {
			if (t.side == 0 || t.side == i+1) && f.sideFlow(t, &c.sides[i]) {
				return true
			}
		}
	case "ip":
		a, err := netip.ParseAddr(fl.Src.IP)
		if err != nil {
			return false
		}
		v := uint16(6)
		if a.Unmap().Is4() {
			v = 4
		}
		return v == t.port
	case "proto":
		return fl.Proto == t.val
	case "node":
		if f.anyPoint(t, fl) {
			return true
		}
		if t.names == nil {
			return false
		}
		if !c.sided {
			c.fill()
		}
		for i := range c.sides {
			if f.sideNamed(t, &c.sides[i]) {
				return true
			}
		}
	case "point":
		if f.anyPoint(t, fl) {
			return true
		}
	case "kind":
		return anyEq(f.flowKind[fl.ID], t.val)
	case "severity":
		return anyEq(f.flowSev[fl.ID], t.val)
	case "status":
		switch t.val {
		case statusDelivered:
			return fl.Delivered > 0 && fl.Lost == 0 && fl.NotCaptured == 0
		case statusLost:
			return fl.Lost > 0
		case statusNotCaptured:
			return fl.NotCaptured > 0
		}
	case "flow":
		return fl.ID == t.val
	}
	return false
}

// pointTerm is a node or point term's verdict on capture point p: a glob's is decided the first time
// the filter meets p (for this Result) and looked up after.
func (f *Filter) pointTerm(t *cterm, p string) bool {
	if t.lit { // plain comparisons, cheaper than the look-up
		return t.pointMatch(p)
	}
	i, ok := f.pointIdx[p]
	if !ok {
		if f.pointIdx == nil {
			f.pointIdx = map[string]int32{}
		}
		i = int32(len(f.pointIdx))
		f.pointIdx[p] = i
	}
	for int(i) >= len(t.points) {
		t.points = append(t.points, undecided)
	}
	v := t.points[i]
	if v == undecided {
		v = verdictFalse
		if t.pointMatch(p) {
			v = verdictTrue
		}
		t.points[i] = v
	}
	return v == verdictTrue
}

// pointMatch is a node or point term's verdict on a capture point: a node term matches the point's
// node, a point term the point itself or its interface.
func (t *cterm) pointMatch(p string) bool {
	node, iface, _ := strings.Cut(p, "/")
	if t.key == "node" {
		return t.match(node)
	}
	return t.match(p) || t.match(iface)
}

// sideFlow evaluates an address, port or name term on one side, as evalSide.
func (f *Filter) sideFlow(t *cterm, e *fside) bool {
	switch t.key {
	case "pod", "svc", "ns":
		return t.names != nil && f.sideNamed(t, e)
	case "host":
		for k := 0; k < e.nAddrs(); k++ {
			if e.addr(k) == t.addr {
				return true
			}
		}
	case "net":
		for k := 0; k < e.nAddrs(); k++ {
			if t.prefix.Contains(e.addr(k)) {
				return true
			}
		}
	case "port", "portrange":
		for k := 0; k < e.nPorts(); k++ {
			if p := e.port(k); p >= t.port && p <= t.portHi {
				return true
			}
		}
	}
	return false
}

// sideNamed reports whether a cluster name of one of the side's addresses satisfies a name term.
func (f *Filter) sideNamed(t *cterm, e *fside) bool {
	for k := 0; k < e.nAddrs(); k++ {
		if i, ok := f.nameIdx[e.addr(k)]; ok && t.names[i] {
			return true
		}
	}
	return false
}

// anyPoint reports whether point or node term t matches one of flow fl's points: its path first (cheaper
// to read, and where a match usually is), then the points that counted its frames.
func (f *Filter) anyPoint(t *cterm, fl *Flow) bool {
	for _, p := range fl.Path {
		if f.pointTerm(t, p) {
			return true
		}
	}
	for k := range fl.PerPoint {
		if f.pointTerm(t, fl.PerPoint[k].Point) {
			return true
		}
	}
	return false
}
