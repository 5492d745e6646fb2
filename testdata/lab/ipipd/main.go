//go:build linux

// Command ipipd is a userspace stand-in for the kernel's fallback IP-in-IP
// device (tunl0), for kernels built without the ipip module.
//
// It attaches to an existing TUN interface (created by the lab script with
// `ip tuntap add tunl0 mode tun`), and:
//
//   - for every IPv4 packet the kernel routes into the TUN, it prepends an
//     outer IPv4 header as ip_tunnel_xmit does for a device with
//     `ttl inherit`: protocol 4, outer TTL = inner TTL, DF copied from the
//     inner header, ECN bits copied, src = the local node IP, dst = the remote
//     node IP that owns the inner destination (from -route CIDR=IP pairs),
//     and sends it with an IPPROTO_RAW socket (IP_HDRINCL; the kernel fills in
//     the IP ID and checksum);
//   - for every protocol-4 packet addressed to the node it strips the outer
//     header and writes the inner packet to the TUN, so the kernel receives
//     it on tunl0;
//   - it watches ICMP "fragmentation needed" errors that quote its own outer
//     packets, remembers the path MTU per remote node, and answers a later
//     inner DF packet that no longer fits with ICMP type 3 code 4 (next-hop
//     MTU = path MTU - 20) to the inner source, like tnl_update_pmtu.
//
// It logs one line per event class and a summary on SIGINT/SIGTERM.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/calipath/calipath/testdata/lab/tundev"
)

const (
	ipHdrLen       = 20
	maxPacket      = 65535
	protoIPIP      = 4
	protoICMP      = 1
	flagDF         = 0x4000
	icmpUnreach    = 3
	icmpFragNeeded = 4
)

type route struct {
	prefix netip.Prefix
	node   netip.Addr
}

type routeList []route

func (r *routeList) String() string {
	parts := make([]string, 0, len(*r))
	for _, x := range *r {
		parts = append(parts, x.prefix.String()+"="+x.node.String())
	}
	return strings.Join(parts, ",")
}

func (r *routeList) Set(s string) error {
	cidr, ip, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("route %q: want CIDR=IP", s)
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return err
	}
	if !p.Addr().Is4() || !a.Is4() {
		return fmt.Errorf("route %q: IPv4 only", s)
	}
	*r = append(*r, route{prefix: p.Masked(), node: a})
	return nil
}

// lookup returns the remote node for dst by longest prefix match.
func (r routeList) lookup(dst netip.Addr) (netip.Addr, bool) {
	best := -1
	var node netip.Addr
	for _, x := range r {
		if x.prefix.Contains(dst) && x.prefix.Bits() > best {
			best = x.prefix.Bits()
			node = x.node
		}
	}
	return node, best >= 0
}

type daemon struct {
	local  netip.Addr
	routes routeList
	tun    int
	rawOut int

	mu   sync.Mutex
	pmtu map[netip.Addr]int

	ipid atomic.Uint32

	encap, decap, noRoute, icmpSent, sendErr, badIn atomic.Int64
}

func main() {
	var d daemon
	dev := flag.String("dev", "tunl0", "existing TUN interface to attach to")
	local := flag.String("local", "", "local node IP (outer source)")
	flag.Var(&d.routes, "route", "remote pod CIDR=remote node IP (repeatable)")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("ipipd: ")
	a, err := netip.ParseAddr(*local)
	if err != nil || !a.Is4() {
		log.Fatalf("-local: want an IPv4 address, got %q", *local)
	}
	d.local = a
	d.pmtu = make(map[netip.Addr]int)
	d.ipid.Store(uint32(os.Getpid()) * 7919)
	if err := d.run(*dev); err != nil {
		log.Fatal(err)
	}
}

func (d *daemon) run(dev string) error {
	var err error
	if d.tun, err = tundev.Open(dev, false); err != nil {
		return err
	}
	if d.rawOut, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW); err != nil {
		return fmt.Errorf("raw send socket: %w", err)
	}
	rawIn, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, protoIPIP)
	if err != nil {
		return fmt.Errorf("raw ipip socket: %w", err)
	}
	icmpIn, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP)
	if err != nil {
		return fmt.Errorf("raw icmp socket: %w", err)
	}
	log.Printf("attached to %s, local %s, routes %s", dev, d.local, d.routes.String())

	go d.loop("tun", d.tun, d.fromTun)
	go d.loop("ipip", rawIn, d.fromWire)
	go d.loop("icmp", icmpIn, d.fromICMP)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	log.Printf("summary encap=%d decap=%d icmp_frag_needed_sent=%d no_route=%d send_errors=%d malformed=%d",
		d.encap.Load(), d.decap.Load(), d.icmpSent.Load(), d.noRoute.Load(), d.sendErr.Load(), d.badIn.Load())
	d.mu.Lock()
	for node, mtu := range d.pmtu {
		log.Printf("summary pmtu %s=%d", node, mtu)
	}
	d.mu.Unlock()
	return nil
}

func (d *daemon) loop(name string, fd int, handle func([]byte)) {
	buf := make([]byte, maxPacket)
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			log.Printf("%s read: %v", name, err)
			return
		}
		handle(buf[:n])
	}
}

// ipv4 validates an IPv4 header and returns its length.
func ipv4(p []byte) (int, bool) {
	if len(p) < ipHdrLen || p[0]>>4 != 4 {
		return 0, false
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < ipHdrLen || ihl > len(p) {
		return 0, false
	}
	return ihl, true
}

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b[:4])) }

func (d *daemon) fromTun(p []byte) {
	if _, ok := ipv4(p); !ok {
		d.badIn.Add(1)
		return
	}
	dst := addr4(p[16:20])
	node, ok := d.routes.lookup(dst)
	if !ok {
		d.noRoute.Add(1)
		return
	}
	df := binary.BigEndian.Uint16(p[6:8])&flagDF != 0
	if df {
		d.mu.Lock()
		mtu := d.pmtu[node]
		d.mu.Unlock()
		if mtu > 0 && len(p)+ipHdrLen > mtu {
			d.fragNeeded(p, mtu-ipHdrLen)
			return
		}
	}
	total := len(p) + ipHdrLen
	if total > maxPacket {
		d.badIn.Add(1)
		return
	}
	out := make([]byte, total)
	out[0] = 0x45
	out[1] = p[1] & 0x03 // ECN bits, as ip_tunnel_ecn_encap with tos 0
	binary.BigEndian.PutUint16(out[2:4], uint16(total))
	// The kernel fills in a zero IP ID itself, but for DF packets from a raw
	// socket it leaves it 0; ip_tunnel_xmit always picks one, so do we.
	id := uint16(d.ipid.Add(1))
	if id == 0 {
		id = uint16(d.ipid.Add(1))
	}
	binary.BigEndian.PutUint16(out[4:6], id)
	if df {
		binary.BigEndian.PutUint16(out[6:8], flagDF)
	}
	out[8] = p[8] // ttl inherit
	out[9] = protoIPIP
	l := d.local.As4()
	copy(out[12:16], l[:])
	n := node.As4()
	copy(out[16:20], n[:])
	copy(out[ipHdrLen:], p)
	if err := syscall.Sendto(d.rawOut, out, 0, &syscall.SockaddrInet4{Addr: n}); err != nil {
		d.sendErr.Add(1)
		log.Printf("send to %s (%d bytes): %v", node, total, err)
		return
	}
	d.encap.Add(1)
}

// fragNeeded sends ICMP type 3 code 4 for the inner packet p to its source.
func (d *daemon) fragNeeded(p []byte, mtu int) {
	ihl, _ := ipv4(p)
	quote := ihl + 8
	if quote > len(p) {
		quote = len(p)
	}
	icmpLen := 8 + quote
	out := make([]byte, ipHdrLen+icmpLen)
	out[0] = 0x45
	out[1] = 0xc0
	binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
	out[8] = 64
	out[9] = protoICMP
	l := d.local.As4()
	copy(out[12:16], l[:])
	copy(out[16:20], p[12:16])
	icmp := out[ipHdrLen:]
	icmp[0] = icmpUnreach
	icmp[1] = icmpFragNeeded
	binary.BigEndian.PutUint16(icmp[6:8], uint16(mtu))
	copy(icmp[8:], p[:quote])
	binary.BigEndian.PutUint16(icmp[2:4], checksum(icmp))
	dst := [4]byte(p[12:16])
	if err := syscall.Sendto(d.rawOut, out, 0, &syscall.SockaddrInet4{Addr: dst}); err != nil {
		d.sendErr.Add(1)
		log.Printf("send icmp frag-needed to %s: %v", addr4(p[12:16]), err)
		return
	}
	d.icmpSent.Add(1)
	log.Printf("icmp frag-needed mtu %d to %s (inner %d bytes)", mtu, addr4(p[12:16]), len(p))
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func (d *daemon) fromWire(p []byte) {
	ihl, ok := ipv4(p)
	if !ok || p[9] != protoIPIP || addr4(p[16:20]) != d.local {
		d.badIn.Add(1)
		return
	}
	inner := p[ihl:]
	if _, ok := ipv4(inner); !ok {
		d.badIn.Add(1)
		return
	}
	if _, err := syscall.Write(d.tun, inner); err != nil {
		d.sendErr.Add(1)
		log.Printf("tun write: %v", err)
		return
	}
	d.decap.Add(1)
}

func (d *daemon) fromICMP(p []byte) {
	ihl, ok := ipv4(p)
	if !ok || len(p) < ihl+8 {
		return
	}
	icmp := p[ihl:]
	if icmp[0] != icmpUnreach || icmp[1] != icmpFragNeeded {
		return
	}
	quoted := icmp[8:]
	if _, ok := ipv4(quoted); !ok || quoted[9] != protoIPIP || addr4(quoted[12:16]) != d.local {
		return
	}
	mtu := int(binary.BigEndian.Uint16(icmp[6:8]))
	if mtu < 68 {
		return
	}
	node := addr4(quoted[16:20])
	d.mu.Lock()
	old := d.pmtu[node]
	if old == 0 || mtu < old {
		d.pmtu[node] = mtu
	}
	d.mu.Unlock()
	log.Printf("learned pmtu %d towards %s from %s", mtu, node, addr4(p[12:16]))
}
