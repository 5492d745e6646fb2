package decode

import (
	"encoding/binary"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// An IPv6 GSO/BIG TCP super-frame declares payload length 0: both decoders flag it GSO (its TCP
// checksum is not verified) and take its size from what was captured, as for IPv4 total length 0.
func TestIPv6PayloadLength0IsGSO(t *testing.T) {
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: fxPod6A, DstIP: fxPod6B}
	f := fxSerialize(t, fxEth(fxPodMAC, fxCaliMAC, layers.EthernetTypeIPv6), ip6, fxData(ip6), gopacket.Payload(fxBytes(3000, 0)))
	binary.BigEndian.PutUint16(f[14+4:], 0)
	for _, d := range []struct {
		name string
		run  func(*Packet)
	}{
		{"fast", func(p *Packet) { DecodeFast(LinkEthernet, f, len(f), DefaultVXLANPort, p) }},
		{"slow", func(p *Packet) { DecodeSlow(LinkEthernet, f, len(f), DefaultVXLANPort, p) }},
	} {
		var p Packet
		d.run(&p)
		if !p.GSO || p.Checksum == CsumBad || p.Errs&ErrBadL4Checksum != 0 || p.PayloadLen != 3000 {
			t.Errorf("%s: GSO %v, checksum %v, errs %v, payload %d; want GSO, not bad, payload 3000",
				d.name, p.GSO, p.Checksum, p.Errs, p.PayloadLen)
		}
	}
}
