//go:build linux

// Command vland is a userspace stand-in for an 802.1Q VLAN sub-interface
// (`ip link add link eth0 name eth0.100 type vlan id 100`), for kernels built
// without the 8021q module, as ipipd stands in for tunl0.
//
// It attaches to an existing TAP interface (created by the lab script with
// `ip tuntap add eth0.100 mode tap`, which holds the address) and to its
// parent, a veth with no address, and:
//
//   - every Ethernet frame the kernel sends on the TAP leaves on the parent
//     with an 802.1Q tag (TPID 0x8100, priority 0, the VLAN ID) inserted after
//     its MAC addresses, written with a packet socket: the parent's wire, and
//     a capture on it, hold the tagged frame;
//   - every frame received on the parent with that VLAN ID (the kernel takes
//     the tag out of the frame into the packet's metadata on receive; the
//     packet socket's auxiliary data gives it back) is written to the TAP
//     without its tag, so the kernel receives it on the sub-interface. Frames
//     of another VLAN, or untagged ones, are left alone (the kernel itself
//     drops a tagged frame no VLAN device takes, as PACKET_OTHERHOST).
//
// It logs a summary of the frames on SIGINT/SIGTERM.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/calipath/calipath/testdata/lab/tundev"
)

const (
	solPacket     = 263
	packetAuxdata = 8
	statusVLAN    = 1 << 4 // TP_STATUS_VLAN_VALID
	tpid8021Q     = 0x8100
	maxFrame      = 65535
)

type daemon struct {
	tap, pkt int
	ifindex  int
	vid      uint16
	out, in  atomic.Int64 // frames tagged onto the parent, untagged onto the TAP
	other    atomic.Int64 // frames received on the parent for no VLAN or another one
	errs     atomic.Int64
}

func main() {
	dev := flag.String("dev", "eth0.100", "existing TAP interface (the sub-interface)")
	parent := flag.String("parent", "eth0", "the parent interface the tagged frames cross")
	vid := flag.Int("id", 100, "VLAN ID")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("vland: ")
	if *vid < 1 || *vid > 4094 {
		log.Fatalf("-id: want 1 to 4094, got %d", *vid)
	}
	d := &daemon{vid: uint16(*vid)}
	if err := d.run(*dev, *parent); err != nil {
		log.Fatal(err)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (d *daemon) run(dev, parent string) error {
	var err error
	if d.tap, err = tundev.Open(dev, true); err != nil {
		return err
	}
	ifc, err := net.InterfaceByName(parent)
	if err != nil {
		return fmt.Errorf("parent %s: %w", parent, err)
	}
	d.ifindex = ifc.Index
	if d.pkt, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL))); err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	if err := syscall.Bind(d.pkt, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: d.ifindex}); err != nil {
		return fmt.Errorf("bind packet socket to %s: %w", parent, err)
	}
	if err := syscall.SetsockoptInt(d.pkt, solPacket, packetAuxdata, 1); err != nil {
		return fmt.Errorf("PACKET_AUXDATA: %w", err)
	}
	log.Printf("attached to %s, parent %s (ifindex %d), vlan %d", dev, parent, d.ifindex, d.vid)
	go d.fromTap()
	go d.fromParent()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	log.Printf("summary tagged=%d untagged=%d other=%d errors=%d", d.out.Load(), d.in.Load(), d.other.Load(), d.errs.Load())
	return nil
}

// fromTap tags each frame the kernel sent on the sub-interface and sends it on the parent.
func (d *daemon) fromTap() {
	buf := make([]byte, maxFrame)
	out := make([]byte, maxFrame+4)
	to := &syscall.SockaddrLinklayer{Ifindex: d.ifindex}
	for {
		n, err := syscall.Read(d.tap, buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			log.Printf("tap read: %v", err)
			return
		}
		if n < 14 {
			d.errs.Add(1)
			continue
		}
		copy(out, buf[:12])
		binary.BigEndian.PutUint16(out[12:], tpid8021Q)
		binary.BigEndian.PutUint16(out[14:], d.vid)
		copy(out[16:], buf[12:n])
		if err := syscall.Sendto(d.pkt, out[:n+4], 0, to); err != nil {
			d.errs.Add(1)
			log.Printf("send on parent: %v", err)
			continue
		}
		d.out.Add(1)
	}
}

// fromParent writes each frame received on the parent with the VLAN's ID to the TAP, untagged.
func (d *daemon) fromParent() {
	buf := make([]byte, maxFrame)
	oob := make([]byte, 64)
	for {
		n, oobn, _, from, err := syscall.Recvmsg(d.pkt, buf, oob, 0)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			log.Printf("parent read: %v", err)
			return
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue // our own tagged frames, and anything else leaving the parent
		}
		frame := buf[:n]
		vid, tagged := auxVLAN(oob[:oobn])
		if !tagged && n >= 18 && binary.BigEndian.Uint16(frame[12:]) == tpid8021Q {
			// The tag is still in the frame (not taken out on receive): take it out here.
			vid, tagged = binary.BigEndian.Uint16(frame[14:])&0x0fff, true
			copy(frame[12:], frame[16:])
			frame = frame[:n-4]
		}
		if !tagged || vid != d.vid {
			d.other.Add(1)
			continue
		}
		if _, err := syscall.Write(d.tap, frame); err != nil {
			d.errs.Add(1)
			log.Printf("tap write: %v", err)
			continue
		}
		d.in.Add(1)
	}
}

// auxVLAN reads the VLAN ID from a packet socket's PACKET_AUXDATA control message (struct
// tpacket_auxdata: status, len, snaplen (u32 each), mac, net, vlan_tci, vlan_tpid (u16 each)).
func auxVLAN(oob []byte) (uint16, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level != solPacket || m.Header.Type != packetAuxdata || len(m.Data) < 20 {
			continue
		}
		status := binary.NativeEndian.Uint32(m.Data[0:4])
		tci := binary.NativeEndian.Uint16(m.Data[16:18])
		if status&statusVLAN != 0 || tci != 0 {
			return tci & 0x0fff, true
		}
	}
	return 0, false
}
