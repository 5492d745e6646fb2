package correlate

import "strings"

// Named returns s with every address that cluster metadata names written as "name (address)"; a
// port stays after the parenthesis ("ns/pod (10.0.0.5):80", "ns/pod ([fd00::5]):80"). An address
// already in parentheses is left alone: it is named already.
func (r *Result) Named(s string) string { return r.rename(s, true) }

// NameOnly returns s with every address that cluster metadata names replaced by its name, a port
// kept ("ns/pod:80"): the compact form for narrow columns. An address in parentheses is left alone.
func (r *Result) NameOnly(s string) string { return r.rename(s, false) }

// rename writes the names of the addresses in s, beside them (both) or in their place.
func (r *Result) rename(s string, both bool) string {
	if len(r.Names) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	eachAddr(s, func(start int, ip string) {
		n, ok := r.NameOf(ip)
		if !ok || start > 0 && s[start-1] == '(' {
			return
		}
		addr := ip
		if start > 0 && s[start-1] == '[' && start+len(ip) < len(s) && s[start+len(ip)] == ']' {
			start--
			addr = "[" + ip + "]"
		}
		b.WriteString(s[last:start])
		if both {
			b.WriteString(n.String() + " (" + addr + ")")
		} else {
			b.WriteString(n.String())
		}
		last = start + len(addr)
	})
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// eachAddr calls fn with each run of s that may be an address (not part of a word such as "node-b"),
// where it starts, and the address (a trailing full stop and an IPv4 port left out), in order.
func eachAddr(s string, fn func(start int, ip string)) {
	for i := 0; i < len(s); {
		if !addrByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && addrByte(s[j]) {
			j++
		}
		start, end := i, j
		i = j
		if start > 0 && isWordByte(s[start-1]) || end < len(s) && isWordByte(s[end]) {
			continue // part of a word ("node-b", "cafe1"), not an address
		}
		ip := strings.TrimRight(s[start:end], ".") // "… to 10.0.0.5."
		if strings.Count(ip, ":") == 1 && strings.Contains(ip, ".") {
			ip, _, _ = strings.Cut(ip, ":") // IPv4 with its port
		}
		fn(start, ip)
	}
}

// addrByte reports whether c can be part of an IPv4 or IPv6 address (with an IPv4 port).
func addrByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':'
}

// isWordByte reports whether c makes the run of address bytes next to it part of a longer word.
func isWordByte(c byte) bool {
	return c >= 'g' && c <= 'z' || c >= 'G' && c <= 'Z' || c == '_' || c == '-'
}
