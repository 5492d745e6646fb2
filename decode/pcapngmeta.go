package decode

import (
	"bytes"
	"net/netip"
	"time"
)

// IfStats is one pcapng Interface Statistics Block: what the capturing software counted on an
// interface up to a moment. The counters are cumulative since the capture started; a counter the
// block does not carry is -1.
type IfStats struct {
	Ts     int64 // ns since the epoch: when the statistics were taken
	Start  int64 // isb_starttime (ns; 0 when absent): when counting began
	End    int64 // isb_endtime (ns; 0 when absent)
	IfRecv int64 // isb_ifrecv: packets the interface received
	IfDrop int64 // isb_ifdrop: packets dropped for lack of resources (the kernel's capture buffer)
	OsDrop int64 // isb_osdrop: packets the operating system dropped
	// FilterAccept and UsrDeliv are isb_filteraccept and isb_usrdeliv.
	FilterAccept, UsrDeliv int64
	// usTimes are Ts, Start and End read as microseconds, when the interface declares a finer
	// resolution (usOK): dumpcap 4.0 writes the statistics' times in microseconds whatever the
	// interface's if_tsresol (settleStatsTimes decides which reading the file's frames support).
	usTimes [3]int64
	usOK    bool
}

// Dropped is what the capture itself lost by the time of these statistics: ifdrop plus osdrop, the
// counters the block carries.
func (s IfStats) Dropped() int64 { return max(s.IfDrop, 0) + max(s.OsDrop, 0) }

// NameRecord is one record of a pcapng Name Resolution Block: an address and the names the capturing
// software gave it.
type NameRecord struct {
	IP    netip.Addr
	Names []string
}

// Bounds on what pcapng metadata a reader keeps: the rest is counted, not kept.
const (
	maxIfStats = 1024    // statistics blocks per interface (the first ones and the last)
	maxNames   = 1 << 16 // name records per file
)

// isb parses an Interface Statistics Block (complete, at least 12 bytes) into its interface's Stats.
// A block for an unknown interface, or too short, is ignored (it carries no packet).
func (r *ngReader) isb(b []byte) {
	if len(b) < 24 {
		return
	}
	id := r.u32(b[8:])
	if id >= uint32(len(r.ifaces)) {
		return
	}
	ifc := &r.ifaces[id]
	ts, ok := ifc.toNs(uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:])))
	if !ok {
		return
	}
	st := IfStats{Ts: ts, IfRecv: -1, IfDrop: -1, OsDrop: -1, FilterAccept: -1, UsrDeliv: -1}
	us := ngIface{exp: 6, offset: ifc.offset} // the same raw values, read as microseconds
	if !ifc.binary && ifc.exp > 6 {
		st.usTimes[0], st.usOK = us.toNs(uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:])))
	}
	r.options(b[20:len(b)-4], func(code uint16, v []byte) {
		if len(v) < 8 {
			return
		}
		u := int64(min(r.u64(v), 1<<62))
		switch code {
		case 2, 3:
			raw := uint64(r.u32(v))<<32 | uint64(r.u32(v[4:]))
			t, ok := ifc.toNs(raw)
			if !ok {
				return
			}
			if st.usOK {
				st.usTimes[code-1], _ = us.toNs(raw)
			}
			if code == 2 {
				st.Start = t
			} else {
				st.End = t
			}
		case 4:
			st.IfRecv = u
		case 5:
			st.IfDrop = u
		case 6:
			st.FilterAccept = u
		case 7:
			st.OsDrop = u
		case 8:
			st.UsrDeliv = u
		}
	})
	if r.stats == nil {
		r.stats = map[int][]IfStats{}
	}
	g := r.base + int(id)
	s := r.stats[g]
	if len(s) >= maxIfStats {
		s[len(s)-1] = st
		return
	}
	r.stats[g] = append(s, st)
}

// Stats returns the Interface Statistics Blocks read so far, by interface (numbered as
// Record.Iface), in file order (at most 1024 per interface: the last one replaces the 1024th).
func (r *ngReader) Stats() map[int][]IfStats { return r.stats }

// nrb parses a Name Resolution Block (complete) into the reader's names, up to maxNames records.
func (r *ngReader) nrb(b []byte) {
	if len(b) < 16 {
		return
	}
	rec := b[8 : len(b)-4]
	for len(rec) >= 4 && len(r.names) < maxNames {
		typ, l := r.u16(rec), int(r.u16(rec[2:]))
		if typ == 0 || 4+l > len(rec) {
			return
		}
		v := rec[4 : 4+l]
		var ip netip.Addr
		switch {
		case typ == 1 && l >= 4:
			ip = netip.AddrFrom4([4]byte(v[:4]))
			v = v[4:]
		case typ == 2 && l >= 16:
			ip = netip.AddrFrom16([16]byte(v[:16]))
			v = v[16:]
		}
		if ip.IsValid() {
			var names []string
			for _, n := range bytes.Split(v, []byte{0}) {
				if len(n) > 0 && len(names) < 16 {
					names = append(names, string(n[:min(len(n), maxIfaceText)]))
				}
			}
			if len(names) > 0 {
				r.names = append(r.names, NameRecord{IP: ip, Names: names})
			}
		}
		adv := 4 + (l+3)&^3
		if adv > len(rec) {
			return
		}
		rec = rec[adv:]
	}
}

// Names returns the name records of the file's Name Resolution Blocks so far.
func (r *ngReader) Names() []NameRecord { return r.names }

// settleStatsTimes reads the statistics' times of fi's interfaces as microseconds where the
// interface declares a finer resolution, its statistics' times read that way fall within a day of
// the file's frames, and read as declared do not: dumpcap 4.0 writes isb_starttime, isb_endtime and
// the block's own time in microseconds on an interface of nanosecond resolution, which read as
// nanoseconds put them in January 1970 (and capture-drop windows and capture spans with them).
func settleStatsTimes(fi *FileInfo) {
	lo, hi, seen := int64(0), int64(0), false
	for _, t := range fi.Traffic {
		if t.Frames == 0 {
			continue
		}
		if !seen || t.First < lo {
			lo = t.First
		}
		if !seen || t.Last > hi {
			hi = t.Last
		}
		seen = true
	}
	if !seen {
		return
	}
	near := func(t int64) bool { return t >= lo-int64(24*time.Hour) && t <= hi+int64(24*time.Hour) }
	for _, st := range fi.IfStats {
		for i := range st {
			s := &st[i]
			if !s.usOK || near(s.Ts) || !near(s.usTimes[0]) {
				continue
			}
			s.Ts = s.usTimes[0]
			if s.Start != 0 {
				s.Start = s.usTimes[1]
			}
			if s.End != 0 {
				s.End = s.usTimes[2]
			}
		}
	}
}
