package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// routeTypes are the route types `ip route` prints before the destination (unicast is left out).
var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "multicast": true,
	"throw": true, "unreachable": true, "prohibit": true, "blackhole": true, "nat": true, "anycast": true}

// routeValued are the `ip route` keywords followed by one value.
var routeValued = map[string]bool{"via": true, "dev": true, "proto": true, "scope": true, "src": true,
	"metric": true, "table": true, "mtu": true, "advmss": true, "pref": true, "expires": true, "realm": true,
	"realms": true, "error": true, "weight": true, "tos": true, "dsfield": true, "window": true, "rtt": true,
	"rttvar": true, "ssthresh": true, "cwnd": true, "initcwnd": true, "initrwnd": true, "hoplimit": true,
	"features": true, "quickack": true, "congctl": true, "fastopen_no_cookie": true, "rto_min": true,
	"nhid": true, "encap": true, "from": true, "type": true}

// parseDst reads a route's destination: "default", a prefix, or an address (a host route). v6 says
// the family of "default".
func parseDst(s string, v6 bool) (netip.Prefix, error) {
	if s == "default" {
		if v6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), nil
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// routeLine starts a route line: an optional type, then a destination.
func routeLine(fs []string) (typ, dst string, rest []string, ok bool) {
	if len(fs) == 0 {
		return "", "", nil, false
	}
	typ = "unicast"
	if routeTypes[fs[0]] {
		typ, fs = fs[0], fs[1:]
	}
	if len(fs) == 0 {
		return "", "", nil, false
	}
	return typ, fs[0], fs[1:], true
}

// detectRouteText recognises `ip route` (or `ip -6 route`) text: its first line is an optional route
// type, a destination, then keywords such as dev, via or proto.
func detectRouteText(data []byte) bool {
	fs := strings.Fields(firstLine(data))
	_, dst, rest, ok := routeLine(fs)
	if !ok {
		return false
	}
	if _, err := parseDst(dst, strings.Contains(dst, ":")); err != nil {
		return false
	}
	if len(rest) == 0 {
		return routeTypes[fs[0]] // "blackhole 10.0.0.0/8" says all it needs
	}
	return routeValued[rest[0]] || rest[0] == "onlink" || rest[0] == "linkdown"
}

// parseRouteText reads `ip route` text. Multipath routes' "nexthop" lines give the route its first
// next hop; a line that is no route is a problem, and the rest is read.
func parseRouteText(file string, data []byte, ns *Netns) []Problem {
	var probs []Problem
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	last := -1 // the route a nexthop line belongs to
	for sc.Scan() {
		line++
		raw := sc.Text()
		text := strings.TrimSpace(raw)
		if text == "" {
			continue
		}
		fs := strings.Fields(text)
		if raw[0] == ' ' || raw[0] == '\t' {
			if fs[0] == "nexthop" && last >= 0 {
				r := &ns.Routes[last]
				if !r.Via.IsValid() && r.Dev == "" {
					routeAttrs(r, fs[1:])
				}
				continue
			}
			probs = append(probs, lineProblem(file, line, "not a route: %q", trimText(text)))
			continue
		}
		last = -1
		typ, dst, rest, ok := routeLine(fs)
		if !ok {
			probs = append(probs, lineProblem(file, line, "not a route: %q", trimText(text)))
			continue
		}
		v6 := strings.Contains(dst, ":") || strings.Contains(text, " via inet6 ")
		p, err := parseDst(dst, v6)
		if err != nil {
			probs = append(probs, lineProblem(file, line, "not a route destination: %q", trimText(dst)))
			continue
		}
		r := Route{Type: typ, Dst: p, Source: Source{File: file, Line: line, Text: text}}
		if bad := routeAttrs(&r, rest); bad != "" {
			probs = append(probs, lineProblem(file, line, "%s", bad))
		}
		if r.Dst.Bits() == 0 && r.Via.IsValid() && r.Via.Is6() != r.Dst.Addr().Is6() { // "default via fe80::1"
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		ns.Routes = append(ns.Routes, r)
		last = len(ns.Routes) - 1
	}
	if err := sc.Err(); err != nil {
		probs = append(probs, lineProblem(file, line+1, "%v (the rest is not read)", err))
	}
	return probs
}

// routeAttrs reads a route's keywords into r; it returns what was wrong with them, "" when nothing.
func routeAttrs(r *Route, fs []string) string {
	var bad []string
	for i := 0; i < len(fs); i++ {
		k := fs[i]
		if !routeValued[k] {
			continue // a flag (onlink, linkdown, dead …) or something newer than this reader
		}
		if i+1 >= len(fs) {
			bad = append(bad, k+" without a value")
			break
		}
		v := fs[i+1]
		i++
		switch k {
		case "via":
			if (v == "inet" || v == "inet6") && i+1 < len(fs) {
				v = fs[i+1]
				i++
			}
			a, err := netip.ParseAddr(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("bad next hop %q", trimText(v)))
				continue
			}
			r.Via = a.Unmap()
		case "dev":
			r.Dev = v
		case "proto":
			r.Proto = v
		case "table":
			r.Table = v
		case "metric":
			if n, err := strconv.Atoi(v); err == nil {
				r.Metric = n
			}
		case "mtu":
			if v == "lock" && i+1 < len(fs) {
				v = fs[i+1]
				i++
			}
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				r.MTU = n
			} else {
				bad = append(bad, fmt.Sprintf("bad mtu %q", trimText(v)))
			}
		}
	}
	return strings.Join(bad, "; ")
}

// jsonRoute is one entry of `ip -j route`. Fields whose JSON type varies between iproute2 versions
// are read as any.
type jsonRoute struct {
	Type    string `json:"type"`
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Via     *struct {
		Host string `json:"host"`
	} `json:"via"`
	Dev      string           `json:"dev"`
	Protocol any              `json:"protocol"`
	Scope    any              `json:"scope"`
	Metric   any              `json:"metric"`
	Table    any              `json:"table"`
	Metrics  []map[string]any `json:"metrics"`
	Nexthops []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	} `json:"nexthops"`
}

// detectRouteJSON recognises `ip -j route`: a list whose entries have a "dst" and neither a
// neighbour's "state" nor a link's "ifname".
func detectRouteJSON(data []byte) bool {
	m, ok := firstEntry(data)
	return ok && has(m, "dst") && !has(m, "state") && !has(m, "ifname") && !has(m, "lladdr")
}

// jsonString renders a JSON value that iproute2 prints either as a string or as a number.
func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// parseRouteJSON reads `ip -j route`; each route's Text is the route as `ip route` prints it.
func parseRouteJSON(file string, data []byte, ns *Netns) []Problem {
	return jsonEntries(file, data, func(entry, line int, raw json.RawMessage) error {
		var jr jsonRoute
		if err := json.Unmarshal(raw, &jr); err != nil {
			return fmt.Errorf("not a route: %v", err)
		}
		if jr.Dst == "" {
			return fmt.Errorf("a route without a destination")
		}
		via := jr.Gateway
		if via == "" && jr.Via != nil {
			via = jr.Via.Host
		}
		dev := jr.Dev
		if via == "" && dev == "" && len(jr.Nexthops) > 0 {
			via, dev = jr.Nexthops[0].Gateway, jr.Nexthops[0].Dev
		}
		typ := jr.Type
		if typ == "" {
			typ = "unicast"
		}
		p, err := parseDst(jr.Dst, strings.Contains(jr.Dst, ":") || strings.Contains(via, ":"))
		if err != nil {
			return fmt.Errorf("not a route destination: %q", trimText(jr.Dst))
		}
		r := Route{Type: typ, Dst: p, Dev: dev, Proto: jsonString(jr.Protocol), Table: jsonString(jr.Table)}
		if via != "" {
			a, err := netip.ParseAddr(via)
			if err != nil {
				return fmt.Errorf("bad next hop %q", trimText(via))
			}
			r.Via = a.Unmap()
		}
		if m, ok := jr.Metric.(float64); ok {
			r.Metric = int(m)
		}
		for _, m := range jr.Metrics {
			if v, ok := m["mtu"].(float64); ok && v > 0 && v < 1<<31 {
				r.MTU = int(v)
			}
		}
		// The text `ip route` would print for it.
		var b strings.Builder
		if typ != "unicast" {
			b.WriteString(typ + " ")
		}
		b.WriteString(jr.Dst)
		for _, kv := range [][2]string{{"via", via}, {"dev", dev}, {"table", r.Table}, {"proto", r.Proto},
			{"scope", jsonString(jr.Scope)}, {"metric", jsonString(jr.Metric)}} {
			if kv[1] != "" {
				b.WriteString(" " + kv[0] + " " + kv[1])
			}
		}
		if r.MTU > 0 {
			b.WriteString(" mtu " + strconv.Itoa(r.MTU))
		}
		r.Source = Source{File: file, Line: line, Entry: entry, Text: b.String()}
		ns.Routes = append(ns.Routes, r)
		return nil
	})
}
