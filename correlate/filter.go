package correlate

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// Filter is a parsed filter expression over flows, journeys and anomalies. The language:
//
//	host IP        an endpoint address (before or after NAT)
//	net CIDR       an endpoint address inside the prefix
//	port N         an endpoint port (ICMP echo flows have none)
//	proto NAME     tcp, udp, icmp, icmpv6, sctp or a protocol number
//	node NAME      a node the packets crossed (glob patterns allowed: node-*)
//	point ID       a capture point, as node/iface or just iface (globs allowed: cali*)
//	kind KIND      an anomaly kind (a flow matches when an anomaly names it)
//	severity S     error, warning or info (anomalies, and flows an anomaly of that severity names)
//	status S       delivered, lost or not-captured (a flow matches when some packet had it)
//	flow ID        a flow ID such as f12
//
// Terms combine with and, or, not (also &&, ||, !) and parentheses; juxtaposition means and.
// Example: `proto tcp and (host 10.244.1.5 or net 10.96.0.0/12) and not status delivered`.
type Filter struct {
	expr string
	root fnode
	// per-Result indexes, built on first use
	r        *Result
	flowKind map[string][]string
	flowSev  map[string][]string
	flowByID map[string]*Flow
}

type fnode interface{ eval(s *subject) bool }

type fand struct{ l, r fnode }
type f_or struct{ l, r fnode }
type fnot struct{ x fnode }
type fterm struct {
	key    string
	val    string
	addr   netip.Addr
	prefix netip.Prefix
	port   uint16
}

func (n fand) eval(s *subject) bool { return n.l.eval(s) && n.r.eval(s) }
func (n f_or) eval(s *subject) bool { return n.l.eval(s) || n.r.eval(s) }
func (n fnot) eval(s *subject) bool { return !n.x.eval(s) }

// subject is what one flow, journey or anomaly offers to the terms.
type subject struct {
	addrs      []netip.Addr
	ports      []uint16
	protos     []string
	nodes      []string
	points     []string
	kinds      []string
	severities []string
	statuses   []string
	flows      []string
}

func globMatch(pattern, s string) bool {
	if ok, err := path.Match(pattern, s); err == nil && ok {
		return true
	}
	return pattern == s
}

func (t fterm) eval(s *subject) bool {
	switch t.key {
	case "host":
		for _, a := range s.addrs {
			if a == t.addr {
				return true
			}
		}
	case "net":
		for _, a := range s.addrs {
			if t.prefix.Contains(a) {
				return true
			}
		}
	case "port":
		for _, p := range s.ports {
			if p == t.port {
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
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
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

var filterKeys = map[string]bool{"host": true, "net": true, "port": true, "proto": true, "node": true,
	"point": true, "kind": true, "severity": true, "status": true, "flow": true}

// FilterKeys lists the filter language's keywords, for completion.
func FilterKeys() []string {
	return []string{"host", "net", "port", "proto", "node", "point", "kind", "severity", "status", "flow",
		"and", "or", "not"}
}

func (p *fparser) primary() (fnode, error) {
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
	case !filterKeys[t]:
		return nil, fmt.Errorf("unknown term %q (want one of host, net, port, proto, node, point, kind, severity, status, flow)", p.toks[p.i])
	}
	p.i++
	if p.i >= len(p.toks) || p.toks[p.i] == ")" || p.toks[p.i] == "(" {
		return nil, fmt.Errorf("%s needs a value", t)
	}
	v := p.toks[p.i]
	p.i++
	term := fterm{key: t, val: v}
	switch t {
	case "host":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("host %q: not an IP address", v)
		}
		term.addr = a.Unmap()
	case "net":
		pf, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("net %q: not a CIDR prefix", v)
		}
		term.prefix = pf.Masked()
	case "port":
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port %q: not a port number", v)
		}
		term.port = uint16(n)
	case "proto":
		v = strings.ToLower(v)
		if n, err := strconv.ParseUint(v, 10, 8); err == nil {
			v = protoName(uint8(n))
		}
		term.val = v
	case "kind", "severity", "status":
		term.val = strings.ToLower(v)
	}
	return term, nil
}

// bind builds the per-Result indexes.
func (f *Filter) bind(r *Result) {
	if f.r == r {
		return
	}
	f.r = r
	f.flowKind, f.flowSev, f.flowByID = map[string][]string{}, map[string][]string{}, map[string]*Flow{}
	if r == nil {
		return
	}
	for i := range r.Flows {
		f.flowByID[r.Flows[i].ID] = &r.Flows[i]
	}
	for _, an := range r.Anomalies {
		for _, id := range an.Flows {
			f.flowKind[id] = append(f.flowKind[id], an.Kind)
			f.flowSev[id] = append(f.flowSev[id], an.Severity)
		}
	}
}

func addEndpoint(s *subject, ep string) {
	if ap, err := netip.ParseAddrPort(strings.TrimSpace(ep)); err == nil {
		s.addrs = append(s.addrs, ap.Addr().Unmap())
		s.ports = append(s.ports, ap.Port())
	}
}

func (f *Filter) flowSubject(fl *Flow, s *subject) {
	for _, ep := range []Endpoint{fl.Src, fl.Dst} {
		if a, err := netip.ParseAddr(ep.IP); err == nil {
			s.addrs = append(s.addrs, a.Unmap())
		}
		if fl.Proto != "icmp" && fl.Proto != "icmpv6" {
			s.ports = append(s.ports, ep.Port)
		}
	}
	for _, n := range fl.NAT {
		for _, side := range []string{n.From, n.To} {
			a, b, _ := strings.Cut(side, " → ")
			addEndpoint(s, a)
			addEndpoint(s, b)
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
	if fl.Delivered > 0 {
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

// MatchFlow reports whether a flow of r matches.
func (f *Filter) MatchFlow(r *Result, fl *Flow) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	var s subject
	f.flowSubject(fl, &s)
	return f.root.eval(&s)
}

// MatchJourney reports whether a journey of r matches: its hops, its status and its flow's terms.
func (f *Filter) MatchJourney(r *Result, j *Journey) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	var s subject
	if fl := f.flowByID[j.Flow]; fl != nil {
		f.flowSubject(fl, &s)
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
// of the flows it names.
func (f *Filter) MatchAnomaly(r *Result, an *Anomaly) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	var s subject
	for _, id := range an.Flows {
		if fl := f.flowByID[id]; fl != nil {
			f.flowSubject(fl, &s)
		}
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
	return f.root.eval(&s)
}
