package correlate

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter is a parsed filter expression over flows, journeys and anomalies. The language:
//
//	host IP        an endpoint address (before or after NAT)
//	net CIDR       an endpoint address inside the prefix
//	port N         an endpoint port (ICMP echo flows have none)
//	portrange N-M  an endpoint port from N to M
//	src …, dst …   host, net, port or portrange on one side only: src host IP, dst port N, src IP,
//	               dst CIDR. A flow's src is the side that sent its first packet (the conversation as
//	               listed, client → server); a journey's is its packet's sender
//	tcp, udp, icmp, icmp6, sctp   the protocol (as proto NAME)
//	ip, ip6        IPv4 or IPv6 flows
//	proto NAME     tcp, udp, icmp, icmpv6 (or icmp6), sctp or a protocol number
//	node NAME      a node the packets crossed (glob patterns allowed: node-*); with cluster metadata
//	               also a flow whose endpoint is that node or a pod running on it
//	pod NAME       an endpoint that is that pod (ns/name or name; globs allowed), with cluster metadata
//	ns NAME        an endpoint that is a pod or service of that namespace (cluster metadata)
//	svc NAME       an endpoint that is that service (ns/name or name; globs allowed; cluster metadata)
//	point ID       a capture point, as node/iface or just iface (globs allowed: cali*)
//	kind KIND      an anomaly kind (a flow matches when an anomaly names it)
//	severity S     error, warning or info (anomalies, and flows an anomaly of that severity names)
//	status S       a flow's packets: delivered when every one was delivered, lost when one or more
//	               was lost, not-captured when the fate of one or more was not captured (a flow
//	               with both is lost and not-captured). A journey's status is its own: delivered,
//	               lost, not-captured, split, merged or unplaced
//	flow ID        a flow ID such as f12
//
// Every term may also be written key=value (pod=default/pod-a, ns=default, svc=kube-dns); src and dst
// take pod, ns and svc too (src pod default/pod-a).
// Terms combine with and, or, not (also &&, ||, !) and parentheses; juxtaposition means and, so
// tcpdump's `tcp port 80` and `src 10.244.1.5 and dst port 53` read as they do there.
// Example: `proto tcp and (host 10.244.1.5 or net 10.96.0.0/12) and not status delivered`: the TCP
// flows of that pod (or of a Service) that did not deliver every packet.
type Filter struct {
	expr string
	root fnode
	// root compiled for flows (MatchFlow): nodes in prog (the root last), terms in terms
	prog  []cnode
	terms []cterm
	// per-Result indexes, built on first use
	r        *Result
	flowKind map[string][]string
	flowSev  map[string][]string
	flowByID map[string]*Flow
	nameIdx  map[netip.Addr]int32 // an address's index in r.Names, as NameOf finds it
	pointIdx map[string]int32     // a capture point's index in cterm.points, in the order MatchFlow met it
}

type fnode interface{ eval(s *subject) bool }

type fand struct{ l, r fnode }
type f_or struct{ l, r fnode }
type fnot struct{ x fnode }
type fterm struct {
	key    string
	val    string
	side   int // host, net, port, portrange: 0 either side, 1 src, 2 dst
	addr   netip.Addr
	prefix netip.Prefix
	port   uint16 // port, and the first of a portrange
	portHi uint16 // the last of a portrange
}

func (n fand) eval(s *subject) bool { return n.l.eval(s) && n.r.eval(s) }
func (n f_or) eval(s *subject) bool { return n.l.eval(s) || n.r.eval(s) }
func (n fnot) eval(s *subject) bool { return !n.x.eval(s) }

// subject is what one flow, journey or anomaly offers to the terms.
type subject struct {
	sides      [2]endpoints // src, dst
	versions   []uint8      // 4, 6
	protos     []string
	nodes      []string
	points     []string
	kinds      []string
	severities []string
	statuses   []string
	flows      []string
	r          *Result // names the endpoints' addresses (pod, ns, svc, node)
}

// endpoints are the addresses and ports of one side of a conversation.
type endpoints struct {
	addrs []netip.Addr
	ports []uint16
}

func globMatch(pattern, s string) bool {
	if ok, err := path.Match(pattern, s); err == nil && ok {
		return true
	}
	return pattern == s
}

func (t fterm) eval(s *subject) bool {
	switch t.key {
	case "host", "net", "port", "portrange", "pod", "ns", "svc":
		for i := range s.sides {
			if t.side == 0 || t.side == i+1 {
				if t.evalSide(s.r, &s.sides[i]) {
					return true
				}
			}
		}
	case "ip":
		for _, v := range s.versions {
			if uint16(v) == t.port {
				return true
			}
		}
	case "proto":
		return anyEq(s.protos, t.val)
	case "node":
		for _, n := range s.nodes {
			if globMatch(t.val, n) {
				return true
			}
		}
		for i := range s.sides {
			for _, n := range s.sides[i].names(s.r) {
				if n.Kind == "node" && globMatch(t.val, n.Name) || n.Node != "" && globMatch(t.val, n.Node) {
					return true
				}
			}
		}
	case "point":
		for _, p := range s.points {
			_, iface, _ := strings.Cut(p, "/")
			if globMatch(t.val, p) || globMatch(t.val, iface) {
				return true
			}
		}
	case "kind":
		return anyEq(s.kinds, t.val)
	case "severity":
		return anyEq(s.severities, t.val)
	case "status":
		return anyEq(s.statuses, t.val)
	case "flow":
		return anyEq(s.flows, t.val)
	}
	return false
}

// evalSide evaluates an address, port or name term on one side.
func (t fterm) evalSide(r *Result, e *endpoints) bool {
	switch t.key {
	case "pod", "svc":
		for _, n := range e.names(r) {
			kind := n.Kind == "service"
			if t.key == "pod" {
				kind = n.Kind == "pod" || n.Kind == "host-network-pod"
			}
			if kind && (globMatch(t.val, n.String()) || globMatch(t.val, n.Name)) {
				return true
			}
		}
	case "ns":
		for _, n := range e.names(r) {
			if n.Namespace != "" && globMatch(t.val, n.Namespace) {
				return true
			}
		}
	case "host":
		for _, a := range e.addrs {
			if a == t.addr {
				return true
			}
		}
	case "net":
		for _, a := range e.addrs {
			if t.prefix.Contains(a) {
				return true
			}
		}
	case "port", "portrange":
		for _, p := range e.ports {
			if p >= t.port && p <= t.portHi {
				return true
			}
		}
	}
	return false
}

// names returns the cluster metadata's names of a side's addresses (none without metadata).
func (e *endpoints) names(r *Result) []Name {
	if r == nil || len(r.Names) == 0 {
		return nil
	}
	var out []Name
	for _, a := range e.addrs {
		if n, ok := r.NameOf(a.String()); ok {
			out = append(out, n)
		}
	}
	return out
}

func anyEq(xs []string, v string) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// String returns the expression the Filter was parsed from.
func (f *Filter) String() string {
	if f == nil { // no filter: everything matches, as for Match*
		return ""
	}
	return f.expr
}

// ParseFilter parses a filter expression. An empty expression matches everything.
func ParseFilter(expr string) (*Filter, error) {
	p := &fparser{toks: tokenize(expr)}
	f := &Filter{expr: strings.TrimSpace(expr)}
	if len(p.toks) == 0 {
		return f, nil
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at word %d", p.toks[p.i], p.i+1)
	}
	f.root = root
	f.compile(root)
	return f, nil
}

func tokenize(s string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if r, n := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
			// Every space strings.TrimSpace knows (\r, \v, U+00A0 …) parts words: a filter's String,
			// trimmed, parses to the same filter.
			flush()
			i += n - 1
			continue
		}
		switch {
		case c == '(' || c == ')':
			flush()
			out = append(out, string(c))
		case c == '!' && cur.Len() == 0:
			out = append(out, "!")
		case (c == '&' || c == '|') && i+1 < len(s) && s[i+1] == c:
			flush()
			out = append(out, string([]byte{c, c}))
			i++
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

type fparser struct {
	toks []string
	i    int
}

func (p *fparser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

func (p *fparser) or() (fnode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" || p.peek() == "||" {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = f_or{l, r}
	}
	return l, nil
}

func (p *fparser) and() (fnode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for {
		switch t := p.peek(); t {
		case "and", "&&":
			p.i++
		case "", "or", "||", ")":
			return l, nil
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = fand{l, r}
	}
}

func (p *fparser) not() (fnode, error) {
	if t := p.peek(); t == "not" || t == "!" {
		p.i++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return fnot{x}, nil
	}
	return p.primary()
}

var filterKeys = map[string]bool{"host": true, "net": true, "port": true, "portrange": true, "proto": true,
	"node": true, "point": true, "kind": true, "severity": true, "status": true, "flow": true,
	"pod": true, "ns": true, "svc": true}

// protoWords are tcpdump's protocol primitives: each stands for proto NAME.
var protoWords = map[string]string{"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmp6": "icmpv6",
	"icmpv6": "icmpv6", "sctp": "sctp"}

// notForFlows are tcpdump primitives that say nothing about a flow's IP conversation.
var notForFlows = map[string]bool{"ether": true, "arp": true, "rarp": true, "vlan": true, "mpls": true,
	"less": true, "greater": true, "broadcast": true, "multicast": true, "gateway": true, "len": true}

// filterValues are the values the keywords with a fixed vocabulary accept.
var filterValues = map[string][]string{
	"severity": {"error", "warning", "info"},
	"status":   {statusDelivered, statusLost, statusNotCaptured, "split", "merged", "unplaced", statusLeft, statusUncertain},
}

const filterTerms = "host, net, port, portrange, src, dst, tcp, udp, icmp, icmp6, sctp, ip, ip6, proto, " +
	"node, point, kind, severity, status, flow, pod, ns, svc"

// FilterKeys lists the filter language's keywords, for completion.
func FilterKeys() []string {
	return []string{"host", "net", "port", "portrange", "src", "dst", "tcp", "udp", "icmp", "icmp6", "sctp",
		"ip", "ip6", "proto", "node", "point", "kind", "severity", "status", "flow", "pod", "ns", "svc", "and", "or", "not"}
}

// splitKeyValue rewrites the token at p.i written key=value (pod=default/pod-a) as the two tokens
// key value, for the keys of the language.
func (p *fparser) splitKeyValue() {
	if p.i >= len(p.toks) {
		return
	}
	k, v, ok := strings.Cut(p.toks[p.i], "=")
	if !ok || v == "" || !filterKeys[strings.ToLower(k)] {
		return
	}
	p.toks = append(p.toks[:p.i], append([]string{k, v}, p.toks[p.i+1:]...)...)
}

func (p *fparser) primary() (fnode, error) {
	p.splitKeyValue()
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("expression ends where a term was expected")
	case t == "(":
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return x, nil
	case protoWords[t] != "":
		p.i++
		return fterm{key: "proto", val: protoWords[t]}, nil
	case t == "ip" || t == "ip6":
		p.i++
		v := uint16(4)
		if t == "ip6" {
			v = 6
		}
		return fterm{key: "ip", port: v}, nil
	case t == "src" || t == "dst":
		return p.directed()
	case notForFlows[t]:
		return nil, fmt.Errorf("tcpdump's %q says nothing about a flow (an IP conversation); want one of %s", p.toks[p.i], filterTerms)
	case !filterKeys[t]:
		return nil, fmt.Errorf("unknown term %q (want one of %s)", p.toks[p.i], filterTerms)
	}
	p.i++
	v, err := p.value(t)
	if err != nil {
		return nil, err
	}
	return term(t, v, 0)
}

// value returns the value after keyword t.
func (p *fparser) value(t string) (string, error) {
	if p.i >= len(p.toks) || p.toks[p.i] == ")" || p.toks[p.i] == "(" {
		return "", fmt.Errorf("%s needs a value", t)
	}
	p.i++
	return p.toks[p.i-1], nil
}

// directed parses src, dst, `src or dst` (either side) or `src and dst` (both sides; also with dst
// first), then host, net, port or portrange and its value, or an address or a CIDR prefix alone (host
// or net, as tcpdump reads it).
func (p *fparser) directed() (fnode, error) {
	dir := p.peek()
	side := 1
	if dir == "dst" {
		side = 2
	}
	p.i++
	other := map[string]string{"src": "dst", "dst": "src"}[dir]
	if c := p.peek(); (c == "or" || c == "and") && p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1], other) {
		p.i += 2
		dir += " " + c + " " + other
		side = 0
		if c == "and" {
			side = 3
		}
	}
	x, err := p.directedTerm(dir, side)
	if err != nil || side != 3 {
		return x, err
	}
	t := x.(fterm) // both sides: the term on each
	s, d := t, t
	s.side, d.side = 1, 2
	return fand{s, d}, nil
}

// directedTerm parses what follows src, dst or their combination.
func (p *fparser) directedTerm(dir string, side int) (fnode, error) {
	p.splitKeyValue()
	switch q := p.peek(); q {
	case "host", "net", "port", "portrange", "pod", "ns", "svc":
		p.i++
		v, err := p.value(dir + " " + q)
		if err != nil {
			return nil, err
		}
		return term(q, v, side)
	case "", "(", ")", "and", "or", "not", "&&", "||", "!":
		return nil, fmt.Errorf("%s needs host, net, port, portrange, pod, ns or svc and a value, or an address", dir)
	}
	v := p.toks[p.i]
	p.i++
	if strings.Contains(v, "/") {
		return term("net", v, side)
	}
	if _, err := netip.ParseAddr(v); err != nil {
		return nil, fmt.Errorf("%s %q: not an address (want %s host IP, net CIDR, port N or portrange N-M)", dir, v, dir)
	}
	return term("host", v, side)
}

// term builds the term key v, on one side (0: either).
func term(key, v string, side int) (fnode, error) {
	t := fterm{key: key, val: v, side: side}
	switch key {
	case "host":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("host %q: not an IP address", v)
		}
		t.addr = a.Unmap()
	case "net":
		pf, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("net %q: not a CIDR prefix (such as 10.244.0.0/16)", v)
		}
		t.prefix = pf.Masked()
	case "port":
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port %q: not a port number", v)
		}
		t.port, t.portHi = uint16(n), uint16(n)
	case "portrange":
		lo, hi, ok := strings.Cut(v, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if !ok || err1 != nil || err2 != nil || a > b {
			return nil, fmt.Errorf("portrange %q: not N-M with N ≤ M ≤ 65535", v)
		}
		t.port, t.portHi = uint16(a), uint16(b)
	case "proto":
		v = strings.TrimPrefix(strings.ToLower(v), `\`) // tcpdump's ip proto \tcp
		if n, err := strconv.ParseUint(v, 10, 8); err == nil {
			v = protoName(uint8(n))
		} else if protoWords[v] != "" {
			v = protoWords[v]
		} else if !strings.HasPrefix(v, "ip-proto-") {
			return nil, fmt.Errorf("proto %q: want tcp, udp, icmp, icmpv6, sctp or a protocol number", v)
		}
		t.val = v
	case "kind":
		t.val = strings.ToLower(v)
		if !isKind(t.val) {
			return nil, fmt.Errorf("kind %q: not an anomaly kind (docs/anomalies.md lists them)", v)
		}
	case "severity", "status":
		t.val = strings.ToLower(v)
		if !anyEq(filterValues[key], t.val) {
			return nil, fmt.Errorf("%s %q: want one of %s", key, v, strings.Join(filterValues[key], ", "))
		}
	}
	return t, nil
}

// bind builds the per-Result indexes.
func (f *Filter) bind(r *Result) {
	if f.r == r {
		return
	}
	f.r = r
	f.flowKind, f.flowSev, f.flowByID = map[string][]string{}, map[string][]string{}, nil
	f.bindNames(r)
	if r == nil {
		return
	}
	for _, an := range r.Anomalies {
		for _, id := range an.Flows {
			f.flowKind[id] = append(f.flowKind[id], an.Kind)
			f.flowSev[id] = append(f.flowSev[id], an.Severity)
		}
	}
}

// flowOf returns the flow of r with that ID (nil if none), indexing r's flows by ID on first use
// (MatchFlow needs no index).
func (f *Filter) flowOf(id string) *Flow {
	if f.flowByID == nil {
		f.flowByID = map[string]*Flow{}
		if f.r != nil {
			for i := range f.r.Flows {
				f.flowByID[f.r.Flows[i].ID] = &f.r.Flows[i]
			}
		}
	}
	return f.flowByID[id]
}

// flowSubject fills s with a flow's terms; swap puts its destination side first (a journey of the
// server-to-client direction).
func (f *Filter) flowSubject(fl *Flow, s *subject, swap bool) {
	src, dst := &s.sides[0], &s.sides[1]
	if swap {
		src, dst = dst, src
	}
	var eps [2]netip.AddrPort // the flow's endpoints as listed
	for i, ep := range []Endpoint{fl.Src, fl.Dst} {
		a, err := netip.ParseAddr(ep.IP)
		if err != nil {
			continue
		}
		a = a.Unmap()
		eps[i] = netip.AddrPortFrom(a, ep.Port)
		side := []*endpoints{src, dst}[i]
		side.addrs = append(side.addrs, a)
		if fl.Proto != "icmp" && fl.Proto != "icmpv6" {
			side.ports = append(side.ports, ep.Port)
		}
		if i == 0 {
			if a.Is4() {
				s.versions = append(s.versions, 4)
			} else {
				s.versions = append(s.versions, 6)
			}
		}
	}
	for _, n := range fl.NAT {
		// A rewrite is "a → b" before and after; it was seen in either direction: the side whose
		// endpoint is the flow's source is the source side.
		var from, to [2]netip.AddrPort
		from[0], from[1] = natEnds(n.From)
		to[0], to[1] = natEnds(n.To)
		first, second := src, dst
		if eps[0].IsValid() && (from[1] == eps[0] || to[1] == eps[0]) && from[0] != eps[0] && to[0] != eps[0] {
			first, second = dst, src
		}
		for _, ap := range []netip.AddrPort{from[0], to[0]} {
			addNATEnd(first, ap, fl.Proto)
		}
		for _, ap := range []netip.AddrPort{from[1], to[1]} {
			addNATEnd(second, ap, fl.Proto)
		}
	}
	s.protos = append(s.protos, fl.Proto)
	for _, pc := range fl.PerPoint {
		s.points = append(s.points, pc.Point)
		node, _, _ := strings.Cut(pc.Point, "/")
		s.nodes = append(s.nodes, node)
	}
	for _, p := range fl.Path {
		s.points = append(s.points, p)
		node, _, _ := strings.Cut(p, "/")
		s.nodes = append(s.nodes, node)
	}
	s.kinds = append(s.kinds, f.flowKind[fl.ID]...)
	s.severities = append(s.severities, f.flowSev[fl.ID]...)
	// A flow is delivered when every packet was; lost and not-captured when any was.
	if fl.Delivered > 0 && fl.Lost == 0 && fl.NotCaptured == 0 {
		s.statuses = append(s.statuses, statusDelivered)
	}
	if fl.Lost > 0 {
		s.statuses = append(s.statuses, statusLost)
	}
	if fl.NotCaptured > 0 {
		s.statuses = append(s.statuses, statusNotCaptured)
	}
	s.flows = append(s.flows, fl.ID)
}

// natEnds parses a NAT mapping's "ip:port → ip:port".
func natEnds(s string) (a, b netip.AddrPort) {
	x, y, _ := strings.Cut(s, " → ")
	a, _ = netip.ParseAddrPort(strings.TrimSpace(x))
	b, _ = netip.ParseAddrPort(strings.TrimSpace(y))
	return a, b
}

// addNATEnd adds a NAT mapping's endpoint to a side (ports only where the protocol has them).
func addNATEnd(e *endpoints, ap netip.AddrPort, proto string) {
	if !ap.IsValid() {
		return
	}
	e.addrs = append(e.addrs, ap.Addr().Unmap())
	if proto != "icmp" && proto != "icmpv6" {
		e.ports = append(e.ports, ap.Port())
	}
}

// MatchFlow reports whether a flow of r matches.
func (f *Filter) MatchFlow(r *Result, fl *Flow) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	c := flowCtx{f: f, fl: fl}
	return f.evalFlow(int32(len(f.prog)-1), &c)
}

// MatchJourney reports whether a journey of r matches: its hops, its status and its flow's terms.
func (f *Filter) MatchJourney(r *Result, j *Journey) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	s := subject{r: r}
	if fl := f.flowOf(j.Flow); fl != nil {
		f.flowSubject(fl, &s, j.Dir == "s2c")
		s.points, s.nodes, s.statuses = s.points[:0], s.nodes[:0], s.statuses[:0]
	}
	for _, h := range j.Hops {
		s.points = append(s.points, h.Point)
		node, _, _ := strings.Cut(h.Point, "/")
		s.nodes = append(s.nodes, node)
	}
	s.statuses = append(s.statuses, j.Status)
	return f.root.eval(&s)
}

// MatchAnomaly reports whether an anomaly of r matches: its kind, severity and place, and the terms
// of a flow it names. The expression is evaluated once per named flow (with the anomaly's own kind,
// severity and place), and matches when it matches for one of them, so that a negation such as
// `not status delivered` keeps an anomaly that names a broken flow beside a healthy one.
func (f *Filter) MatchAnomaly(r *Result, an *Anomaly) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	var flows []*Flow
	for _, id := range an.Flows {
		if fl := f.flowOf(id); fl != nil {
			flows = append(flows, fl)
		}
	}
	if len(flows) == 0 {
		flows = append(flows, nil)
	}
	for _, fl := range flows {
		s := subject{r: r}
		if fl != nil {
			f.flowSubject(fl, &s, false)
		}
		s.kinds = []string{an.Kind}
		s.severities = []string{an.Severity}
		s.points, s.nodes = s.points[:0], s.nodes[:0]
		for _, p := range []string{an.Where.Point, an.Where.From, an.Where.To} {
			if p != "" {
				s.points = append(s.points, p)
				node, _, _ := strings.Cut(p, "/")
				s.nodes = append(s.nodes, node)
			}
		}
		if an.Where.Node != "" {
			s.nodes = append(s.nodes, an.Where.Node)
		}
		if f.root.eval(&s) {
			return true
		}
	}
	return false
}
