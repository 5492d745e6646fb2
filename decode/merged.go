package decode

import (
	"errors"
	"math/bits"
	"os"
	"strconv"
)

// A node's captures merged into one file (mergecap -w node-a.pcap -F pcap node-a-cali*.pcap
// node-a-eth0.pcap): one Ethernet interface and no interface ids, so each packet is there once per
// interface it crossed, with that interface's link addresses. Taken as one capture point, the same
// packet seen at the pod's veth and at eth0 looks like duplicates and retransmissions. learnMerged
// tells such a file from a bounded prefix (mergeProbe records, read once more before the scan, like
// learnSLL): some packets (at least minMergedDup) are there at two stages, by their stage signatures,
// or (WireGuard encrypts what the veth carries) IP frames of a pod's veth are there with encapsulated
// or WireGuard frames between other MACs, which no one interface of a Calico node carries both; and
// the scan then files each frame under a stage of its own, a capture source with a pseudo
// interface number (MergedIface + stage): what carries ee:ee:ee:ee:ee:ee, Calico's veth MAC, is a
// pod's veth (one per pod MAC), what is between two VXLAN VTEP MACs (66:…) the tunnel device, and
// the rest (encapsulated frames, node MACs) the underlay.

// MergedIface is the first pseudo interface number (Source.Iface) of a merged capture's stages: +0
// the underlay, +1 the tunnel device, +2+k the veth of the k-th pod MAC met (at most mergedPods).
const MergedIface = 0xff00

const (
	mergeProbe   = 4096 // records of a file's prefix read to tell a merged capture
	minMergedDup = 4    // packets seen at two stages of the prefix that make it one
	// and, without such packets, the IP frames of a pod's veth and the encapsulated or WireGuard frames
	// between other MACs (handshakes only, when WireGuard is blocked) that make it one
	minMergedCarried = 2
	mergedPods       = 64 // pod MACs told apart; the rest share the last veth stage
	// a prefix this long of one stage only (one kind, at most one pod MAC) is a file of one interface:
	// a merged capture is in time order, so a packet's copies at two stages lie microseconds apart
	mergeOneStage = 1024
)

// Stages of a merged capture, as offsets from MergedIface.
const (
	mergedUnderlay = iota
	mergedTunnel
	mergedVeth
)

// mergedLocal is what learnMerged found of a merged capture: its pods' MACs, each with its veth stage.
type mergedLocal struct {
	pods map[[6]byte]int
	ips  map[[16]byte]int // the pods' addresses (what they sent to their host) → their stage
}

var broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// mergedKind is the stage kind of a frame of a merged capture (mergedUnderlay, mergedTunnel,
// mergedVeth) and, for a veth, the pod's MAC.
func mergedKind(p *Packet) (kind int, pod [6]byte) {
	switch {
	case !p.HasEth:
		return mergedUnderlay, pod
	case p.HasARP && p.Encap == EncapNone:
		switch {
		case p.ARP.SHA == CalicoMAC: // the host's (proxy) reply to its pod, or its request (a broadcast one: pod zero)
			if p.ARP.THA != ([6]byte{}) && p.ARP.THA != broadcastMAC {
				return mergedVeth, p.ARP.THA
			}
			if p.DstMAC != broadcastMAC {
				return mergedVeth, p.DstMAC
			}
			return mergedVeth, pod
		case p.ARP.TPA == CalicoGateway || p.ARP.THA == CalicoMAC || p.DstMAC == CalicoMAC: // the pod asks its host
			return mergedVeth, p.ARP.SHA
		}
		return mergedUnderlay, pod
	case p.SrcMAC == CalicoMAC: // also a pod's own tunnel's frames: the veth carries them
		return mergedVeth, p.DstMAC
	case p.DstMAC == CalicoMAC:
		return mergedVeth, p.SrcMAC
	case p.Encap != EncapNone || p.HasWG || p.Inner.Version == 0:
		return mergedUnderlay, pod
	case p.SrcMAC[0] == 0x66 && p.DstMAC[0] == 0x66:
		return mergedTunnel, pod
	}
	return mergedUnderlay, pod
}

// stage returns the pseudo interface number of a merged capture's frame, learning pod MACs the
// prefix did not show (up to mergedPods).
func (m *mergedLocal) stage(p *Packet) int {
	kind, pod := mergedKind(p)
	if kind != mergedVeth {
		return MergedIface + kind
	}
	if pod == ([6]byte{}) { // the host's broadcast request for a pod's address: that pod's veth
		var a [16]byte
		copy(a[:4], p.ARP.TPA[:]) // IPHdr keeps an IPv4 address in its first 4 bytes
		return MergedIface + mergedVeth + m.ips[a]
	}
	k, ok := m.pods[pod]
	if !ok {
		k = min(len(m.pods), mergedPods-1)
		if len(m.pods) < mergedPods {
			m.pods[pod] = k
		}
	}
	return MergedIface + mergedVeth + k
}

// learnMerged reads the first mergeProbe records of the file at path and returns what it shows of a
// merged capture, nil when it is none: a file that is not a regular one (standard input, a FIFO: read
// once only, it is taken as it is), of another link type than Ethernet or of several interfaces, or in
// which fewer than minMergedDup packets show at two stages.
func learnMerged(path string, opts Options) *mergedLocal {
	if path == "-" {
		return nil
	}
	if opts.Open == nil {
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			return nil
		}
	}
	r, c, mapped, err := openScan(path, opts)
	if err != nil {
		return nil
	}
	defer c.Close()
	var m *mergedLocal
	read := func() { m = probeMerged(r, opts) }
	if mapped == nil {
		read()
	} else if mappedFault(mapped, read) != nil {
		return nil
	}
	return m
}

// probeMerged is learnMerged's look at the prefix of r.
func probeMerged(r Reader, opts Options) *mergedLocal {
	vx, wg := opts.tunnelPorts()
	var rec Record
	var p Packet
	m := &mergedLocal{pods: map[[6]byte]int{}, ips: map[[16]byte]int{}}
	// fingerprint → the stages it was seen at (bits 0-55; each pod's veth its own) and, in the top byte,
	// the TTL it had at the first
	stages := map[uint64]uint64{}
	dups, vethIP, carried := 0, 0, 0
	kinds := 0 // the stage kinds met (bits)
	for n := 0; n < mergeProbe; n++ {
		if n == mergeOneStage && bits.OnesCount(uint(kinds)) < 2 && len(m.pods) < 2 {
			return nil // a pod's veth or a node's eth0 alone: the rest of the prefix need not be read
		}
		err := r.Next(&rec)
		var re *RecordError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			break
		}
		if rec.LinkType != LinkEthernet || rec.Iface != 0 {
			return nil
		}
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, vx, wg, &p)
		kind, pod := mergedKind(&p)
		kinds |= 1 << kind
		if kind == mergedVeth && pod != ([6]byte{}) {
			k, ok := m.pods[pod]
			if !ok && len(m.pods) < mergedPods {
				k, m.pods[pod] = len(m.pods), len(m.pods)
			}
			if p.DstMAC == CalicoMAC && p.Inner.Version == 4 && len(m.ips) < sllLocalMax {
				m.ips[p.Inner.Src] = k
			}
		}
		switch {
		case kind == mergedVeth && p.Inner.Version != 0:
			vethIP++
		case kind == mergedUnderlay && (p.HasWG || p.Encap != EncapNone):
			carried++
		}
		if p.Inner.Version == 0 || p.HasARP || p.Errs != 0 {
			continue
		}
		fp, _ := Fingerprint(&p)
		was, seen := stages[fp]
		st := kind
		if kind == mergedVeth {
			// A packet between two pods of the node crosses both veths, its TTL one lower at the second
			// (the node routed it once): two stages too. Lower by more, it crossed other nodes: the
			// file holds veths of several nodes, which no split makes one node's stages.
			k, ok := m.pods[pod]
			if !ok {
				k = mergedPods - 1
			}
			if st = min(mergedVeth+k, 55); seen && was&(1<<mergedVeth-1) == 0 && was>>56 != uint64(p.Inner.TTL)+1 {
				st = bits.TrailingZeros64(was) // another pod's veth, not on this node's way: no second stage
			}
		}
		const stageBits = 1<<56 - 1
		if !seen {
			was = uint64(p.Inner.TTL) << 56
		}
		now := was | 1<<st
		stages[fp] = now
		if bits.OnesCount64(was&stageBits) == 1 && bits.OnesCount64(now&stageBits) == 2 {
			dups++
		}
	}
	if len(m.pods) == 0 || dups < minMergedDup && (vethIP < minMergedDup || carried < minMergedCarried) {
		return nil
	}
	return m
}

// MergedStage names the stage of a merged capture's pseudo interface iface (Source.Iface), with its
// role and what it holds; ok is false for another interface number.
func MergedStage(iface uint16) (name string, role Role, why string, ok bool) {
	if iface < MergedIface || iface == 0xffff {
		return "", RoleUnknown, "", false
	}
	switch k := int(iface) - MergedIface; {
	case k == mergedUnderlay:
		return "eth0", RoleUnderlay, "its encapsulated frames and those between node MACs (the underlay)", true
	case k == mergedTunnel:
		return "tunnel", RoleTunnel, "its frames between VXLAN VTEP MACs 66:… (the tunnel device)", true
	case k == mergedVeth:
		return "veth", RolePodVeth, "its frames to and from ee:ee:ee:ee:ee:ee of the first pod MAC (a pod's veth)", true
	default:
		return "veth" + strconv.Itoa(k-mergedVeth+1), RolePodVeth, "its frames to and from ee:ee:ee:ee:ee:ee of pod MAC number " + strconv.Itoa(k-mergedVeth+1) + " (a pod's veth)", true
	}
}
