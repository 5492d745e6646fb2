package correlate

import "github.com/calipath/calipath/decode"

// A tunnel device carries one inner IP family: Calico sends a dual-stack pod's IPv4 packets through
// vxlan.calico (or tunl0, or wireguard.cali) and its IPv6 packets through vxlan-v6.calico (or
// wg-v6.cali); there is no IPv6 over IP-in-IP. A flow's path crosses only the tunnel devices of its
// own family, or else a packet lost inside its sending node is put between the two devices
// ("host-drop vxlan-v6.calico → vxlan.calico") instead of after its own.

// tunnelFamilies returns, per point, the IP families (famBit) of the packets a tunnel device carried;
// for a device that carried none, the family its Calico name implies (none for another name). Other
// points get 0.
func tunnelFamilies(w *world) []uint8 {
	fam := make([]uint8, len(w.pointNode))
	tun := func(p int) bool { return w.pointRole[p] == decode.RoleTunnel }
	for f, has := range w.filesWith(tun) {
		if !has {
			continue
		}
		obs := w.c.Obs[f]
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			if p := w.srcPoint[o.Source]; tun(p) && o.Flags&(decode.FlagNotIP|decode.FlagARP) == 0 {
				fam[p] |= famBit(o)
			}
		}
	}
	for p := range fam {
		if fam[p] == 0 && tun(p) {
			fam[p] = nameFamily(w.c.Points[p].Iface)
		}
	}
	return fam
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
// family, or its family is not known (no packets, a name that is not Calico's).
func (s *pathStage) carries(p int, v6 bool) bool {
	if s.tunFam == nil {
		s.tunFam = tunnelFamilies(s.w)
	}
	bit := uint8(1)
	if v6 {
		bit = 2
	}
	return s.tunFam[p] == 0 || s.tunFam[p]&bit != 0
}
