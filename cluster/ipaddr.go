package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
)

// IPAddrLink is one interface of a node as `ip -d -j addr show` prints it: its index, name, MTU, link
// kind (veth, ipip, tun, vxlan, wireguard; "" for a device without linkinfo such as eth0 on real
// hardware), MAC address and addresses.
type IPAddrLink struct {
	Index int32
	Name  string
	MTU   int
	Kind  string
	MAC   string
	Addrs []netip.Prefix
}

// maxIPAddrBytes bounds what ParseIPAddr reads: a node with thousands of pods prints a few MB.
const maxIPAddrBytes = 64 << 20

// ipAddrJSON is the part of iproute2's JSON output (ip/ipaddress.c, print_linkinfo and
// print_addrinfo) calipath reads.
type ipAddrJSON struct {
	Ifindex  *int32 `json:"ifindex"`
	Ifname   string `json:"ifname"`
	MTU      int    `json:"mtu"`
	Address  string `json:"address"`
	Linkinfo *struct {
		InfoKind string `json:"info_kind"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// ParseIPAddr parses the saved output of `ip -d -j addr show` (`ip -j addr` works too: the link kind
// is then unknown) into the node's interfaces, sorted by index. It reads one JSON array from r and
// stops there, so that a file holding further output after it (a Retina bundle's ip-resources.txt)
// can be read from the array's start. An interface without index or name is an error, so is an
// address that is not one; an empty array is an error (no interfaces).
func ParseIPAddr(r io.Reader) ([]IPAddrLink, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxIPAddrBytes))
	var raw []ipAddrJSON
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("not `ip -j addr` output: the JSON array ends early (cut, or over %d MiB)", maxIPAddrBytes>>20)
		}
		return nil, fmt.Errorf("not `ip -j addr` output: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("no interfaces found")
	}
	out := make([]IPAddrLink, 0, len(raw))
	seen := map[int32]bool{}
	for i, l := range raw {
		if l.Ifindex == nil || *l.Ifindex <= 0 || l.Ifname == "" {
			return nil, fmt.Errorf("interface %d of the array has no index or name", i+1)
		}
		if seen[*l.Ifindex] {
			return nil, fmt.Errorf("interface index %d listed twice", *l.Ifindex)
		}
		seen[*l.Ifindex] = true
		link := IPAddrLink{Index: *l.Ifindex, Name: l.Ifname, MTU: l.MTU, MAC: l.Address}
		if l.Linkinfo != nil {
			link.Kind = l.Linkinfo.InfoKind
		}
		for _, a := range l.AddrInfo {
			ip, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("interface %s: address %q: %w", l.Ifname, a.Local, err)
			}
			p, err := ip.Prefix(a.Prefixlen)
			if err != nil {
				return nil, fmt.Errorf("interface %s: address %s/%d: %w", l.Ifname, a.Local, a.Prefixlen, err)
			}
			link.Addrs = append(link.Addrs, netip.PrefixFrom(ip, p.Bits()))
		}
		out = append(out, link)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, nil
}

// IfNames returns the interface index → name map of links, as `--links` gives it from `ip -o link`.
func IfNames(links []IPAddrLink) map[int32]string {
	m := make(map[int32]string, len(links))
	for _, l := range links {
		m[l.Index] = l.Name
	}
	return m
}
