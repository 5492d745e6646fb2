package correlate

import "github.com/calipath/calipath/decode"

// A tunnel device carries one inner IP family: Calico sends a dual-stack pod's IPv4 packets through
// vxlan.calico (or tunl0, or wireguard.cali) and its IPv6 packets through vxlan-v6.calico (or
// wg-v6.cali); there is no IPv6 over IP-in-IP. A flow's path crosses only the tunnel devices of its
// own family, or else a packet lost inside its sending node is put between the two devices
// ("host-drop vxlan-v6.calico → vxlan.calico") instead of after its own.

// scanFamily records in s.tunFam which tunnel points carried a packet of the family bit (famBit).
// It reads each file that holds a tunnel point only until each of the file's tunnel points is seen to
// carry it (on an IPv4-only set, a file's first frames).
func (s *pathStage) scanFamily(bit uint8) {
	w := s.w
	if s.tunFam == nil {
		s.tunFam = make([]uint8, len(w.pointNode))
	}
	s.famScanned |= bit
	tun := func(p int) bool { return w.pointRole[p] == decode.RoleTunnel }
	for f, has := range w.filesWith(tun) {
		if !has {
			continue
		}
		n, obs := s.lacking(f, bit), w.c.Obs[f]
		for i := 0; n > 0 && i < len(obs); i++ {
			w.trimAt(i)
			o := &obs[i]
			p := w.srcPoint[o.Source]
			if tun(p) && s.tunFam[p]&bit == 0 && o.Flags&(decode.FlagNotIP|decode.FlagARP) == 0 && famBit(o) == bit {
				s.tunFam[p] |= bit
				n--
			}
		}
	}
}

// lacking counts the tunnel points of file f not yet known to carry the family bit.
func (s *pathStage) lacking(f int, bit uint8) int {
	w, n := s.w, 0
	seen := map[int]bool{}
	for si, src := range w.c.Sources {
		if int(src.File) != f || si >= len(w.srcPoint) {
			continue
		}
		if p := w.srcPoint[si]; w.pointRole[p] == decode.RoleTunnel && s.tunFam[p]&bit == 0 && !seen[p] {
			seen[p] = true
			n++
		}
	}
	return n
}

// nameFamily is the inner IP family (famBit) of a Calico tunnel device by its name, 0 when the name is
// not one of Calico's.
func nameFamily(iface string) uint8 {
	switch iface {
	case "vxlan.calico", "tunl0", "wireguard.cali":
		return 1
	case "vxlan-v6.calico", "wg-v6.cali":
		return 2
	}
	return 0
}

// carries says whether tunnel point p may be on a path of the family v6: it carried packets of that
// family; or it carried none of either family, and its Calico name is of that family or it has
// another name.
func (s *pathStage) carries(p int, v6 bool) bool {
	bit, other := uint8(1), uint8(2)
	if v6 {
		bit, other = 2, 1
	}
	if s.famScanned&bit == 0 {
		s.scanFamily(bit)
	}
	if s.tunFam[p]&bit != 0 {
		return true
	}
	if s.famScanned&other == 0 {
		s.scanFamily(other)
	}
	if s.tunFam[p]&other != 0 {
		return false
	}
	nf := nameFamily(s.w.c.Points[p].Iface)
	return nf == 0 || nf == bit
}
