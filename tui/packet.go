package tui

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/units"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// frameInfo is one hop's frame as read back from its file.
type frameInfo struct {
	rec decode.Record
	pkt decode.Packet
	err error
}

// framesMsg carries the frames of a journey's hops, read off the UI loop.
type framesMsg struct {
	journey int
	flow    string
	frames  []frameInfo
}

// packetView shows one journey: each hop's headers side by side with what changed, and a hex view.
type packetView struct {
	has     bool
	j       correlate.Journey
	frames  []frameInfo
	loading bool
	sel     int
	hexOff  int
	noHex   bool
}

// open shows a journey and returns the Cmd that reads its frames.
func (p *packetView) open(c *common, j *correlate.Journey) tea.Cmd {
	*p = packetView{has: true, j: *j, loading: true, noHex: p.noHex}
	hops := append([]correlate.Hop(nil), j.Hops...)
	read := c.readFrame
	id, flow := j.ID, j.Flow
	return func() tea.Msg {
		out := make([]frameInfo, len(hops))
		for i, h := range hops {
			out[i].rec, out[i].pkt, out[i].err = read(h.File, h.Frame)
			if out[i].err != nil {
				continue
			}
			if m := hopMismatch(&hops[i], &out[i].pkt); m != "" {
				out[i] = frameInfo{err: fmt.Errorf("frame %d of %s is not the packet this journey recorded there (%s): %w",
					h.Frame, filepath.Base(h.File), m, errFrameMismatch)}
			}
		}
		return framesMsg{journey: id, flow: flow, frames: out}
	}
}

// hopMismatch says how the frame read back for hop h differs from what the hop recorded of its packet
// (the innermost TTL, the encapsulation, the TCP flags), "" when it does not: a file rewritten since it
// was read (a capture taken again under its name, another file copied over it) holds another packet at
// the frame's number, and the packet screen would show that one as this journey's. A WireGuard hop's
// packet is encrypted in its frame, so only its encapsulation can be compared.
func hopMismatch(h *correlate.Hop, pk *decode.Packet) string {
	if h.WireGuard != nil {
		if !pk.HasWG {
			return "no WireGuard message, recorded one"
		}
		return ""
	}
	if encap := pk.Encap.String(); encap != h.Encap {
		return fmt.Sprintf("%s, recorded %s", encap, h.Encap)
	}
	if pk.HasARP || pk.Inner.Version == 0 {
		return "no IP packet"
	}
	if pk.Inner.TTL != h.TTL {
		return fmt.Sprintf("TTL %d, recorded %d", pk.Inner.TTL, h.TTL)
	}
	if h.TCPFlags != "" && (!pk.HasTCP || units.TCPFlags(pk.TCP.Flags) != h.TCPFlags) {
		got := "not TCP"
		if pk.HasTCP {
			got = "TCP flags " + units.TCPFlags(pk.TCP.Flags)
		}
		return fmt.Sprintf("%s, recorded %s", got, h.TCPFlags)
	}
	return ""
}

func (p *packetView) framesLoaded(msg framesMsg) {
	if !p.has || msg.journey != p.j.ID || msg.flow != p.j.Flow {
		return
	}
	p.frames, p.loading = msg.frames, false
}

// shortHelp is the footer's keys for the packet screen.
func (p *packetView) shortHelp(km KeyMap) []key.Binding {
	return []key.Binding{km.Left, km.Right, km.Hex, km.Back}
}

// update handles a key on the packet screen: hops, the hex view and its scrolling; esc asks the root
// to go back to the timeline.
func (p *packetView) update(c *common, msg tea.KeyMsg, w, h int) tea.Msg {
	km := c.km
	switch {
	case key.Matches(msg, km.Back):
		return showMsg(screenTimeline)
	case key.Matches(msg, km.Left):
		p.sel = max(0, p.sel-1)
		p.hexOff = 0
	case key.Matches(msg, km.Right):
		p.sel = clamp(p.sel+1, 0, len(p.j.Hops)-1)
		p.hexOff = 0
	case key.Matches(msg, km.Hex):
		p.noHex = !p.noHex
	default:
		if p.sel < len(p.frames) {
			lo := p.layout(p.fieldValues(c), w, h-len(p.notes(w)))
			lines := (len(p.frames[p.sel].rec.Data) + lo.per - 1) / lo.per
			scrollKey(msg, km, &p.hexOff, max(1, lines-lo.hexRows+1), lo.hexRows) // the last offset shows the last line
		}
	}
	return nil
}

// fieldNames are the rows of the header table for one hop; the f… constants index them.
var fieldNames = []string{"point", "frame", "time", "delta", "encap", "outer src", "outer dst", "outer ttl",
	"outer len", "vni", "wireguard", "src", "dst", "ttl", "proto", "length", "tcp", "ip id", "checksum", "problems",
	"changes"}

const (
	fPoint = iota
	fFrame
	fTime
	fDelta
	fEncap
	fOuterSrc
	fOuterDst
	fOuterTTL
	fOuterLen
	fVNI
	fWG
	fSrc
	fDst
	fTTL
	fProto
	fLength
	fTCP
	fIPID
	fChecksum
	fProblems
	fChanges
)

// ipLen is an IP header's total length with its fragment bits as tcpdump writes them: 1500 [DF],
// 1500 [MF] off 0, 520 off 1480.
func ipLen(h *decode.IPHdr) string {
	s := fmt.Sprint(h.TotalLen)
	switch {
	case h.DF && h.MF:
		s += " [DF,MF]"
	case h.DF:
		s += " [DF]"
	case h.MF:
		s += " [MF]"
	}
	if h.MF || h.FragOff > 0 {
		s += fmt.Sprintf(" off %d", h.FragOff)
	}
	return s
}

// hopDelta is a hop's time since the hop before as the packet view shows it: "+12.3µs", marked as a
// bound (≥, ≤) or "?" when a clock bounded on one side only leaves it one or unknown.
func hopDelta(h *correlate.Hop) string {
	switch h.ClockBound {
	case correlate.BoundLower, correlate.BoundUpper:
		return correlate.MarkBound(h.ClockBound, "+"+fmtDur(h.DeltaNs))
	case correlate.BoundNone:
		return "? (clocks bounded on one side only)"
	}
	if h.ClockUncertainNs > 0 {
		return correlate.MarkLoose(h.ClockUncertainNs, "+"+fmtDur(h.DeltaNs)) + " (clocks ±" + fmtDur(h.ClockUncertainNs) + ")"
	}
	return "+" + fmtDur(h.DeltaNs)
}

func addrString(h *decode.IPHdr) string {
	a := h.SrcAddr()
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func dstString(h *decode.IPHdr) string {
	a := h.DstAddr()
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// hopFields returns the values of fieldNames for hop i.
func (p *packetView) hopFields(i int) []string {
	h := p.j.Hops[i]
	v := make([]string, len(fieldNames))
	v[fPoint] = clean(h.Point)
	v[fFrame] = clean(filepath.Base(h.File)) + fmt.Sprintf(":%d", h.Frame)
	v[fTime] = fmtClock(h.Ts)
	if i > 0 {
		v[fDelta] = hopDelta(&h)
	}
	v[fEncap] = clean(h.Encap)
	v[fTTL] = fmt.Sprint(h.TTL)
	v[fChanges] = clean(strings.Join(h.Changes, ", "))
	if i >= len(p.frames) {
		return v
	}
	fi := &p.frames[i]
	if fi.err != nil {
		v[fProblems] = clean(fi.err.Error())
		return v
	}
	pk := &fi.pkt
	if pk.Encap != decode.EncapNone {
		v[fOuterSrc], v[fOuterDst] = addrString(&pk.Outer), dstString(&pk.Outer)
		v[fOuterTTL] = fmt.Sprint(pk.Outer.TTL)
		if pk.Outer.Version != 0 {
			v[fOuterLen] = ipLen(&pk.Outer)
		}
		if pk.Encap == decode.EncapVXLAN {
			v[fVNI] = fmt.Sprint(pk.VNI)
		}
	}
	if pk.HasWG {
		v[fWG] = wgField(&pk.WG)
	}
	if pk.HasARP {
		v[fSrc] = netip.AddrFrom4(pk.ARP.SPA).String()
		v[fDst] = netip.AddrFrom4(pk.ARP.TPA).String()
		v[fProto] = fmt.Sprintf("arp op %d", pk.ARP.Op)
	} else if pk.Inner.Version != 0 {
		v[fSrc], v[fDst] = addrString(&pk.Inner), dstString(&pk.Inner)
		v[fTTL] = fmt.Sprint(pk.Inner.TTL)
		v[fProto] = units.Proto(pk.Inner.Proto)
		if pk.HasTCP || pk.HasUDP {
			v[fSrc] += fmt.Sprintf(":%d", pk.Sport)
			v[fDst] += fmt.Sprintf(":%d", pk.Dport)
		}
		if pk.HasICMP {
			v[fProto] += fmt.Sprintf(" %d/%d", pk.ICMP.Type, pk.ICMP.Code)
		}
		v[fIPID] = fmt.Sprint(pk.Inner.ID)
		v[fLength] = ipLen(&pk.Inner)
	}
	if pk.HasTCP {
		v[fTCP] = fmt.Sprintf("%s seq %d ack %d", units.TCPFlags(pk.TCP.Flags), pk.TCP.Seq, pk.TCP.Ack)
	}
	v[fChecksum] = pk.Checksum.String()
	v[fProblems] = strings.Join(pk.Errs.Strings(), ",")
	return v
}

// notes are the packet screen's lines under its head, wrapped to w: the journey's uncertainty (an ICMP
// error that may have crossed a NAT unseen: icmp-error-nat-unknown), and for each file whose frames
// could not be shown as the journey's because it changed since it was read, what changed.
func (p *packetView) notes(w int) []string {
	var out []string
	if p.j.Uncertain != "" {
		out = append(out, strings.Split(joinWrap(strings.Fields(clean(p.j.Uncertain)), " ", w), "\n")...)
	}
	said := map[string]bool{}
	for i := range p.frames {
		err := p.frames[i].err
		var ce *decode.FileChangedError
		if err == nil || i >= len(p.j.Hops) || !errors.As(err, &ce) && !errors.Is(err, errFrameMismatch) {
			continue
		}
		msg := err.Error()
		if ce != nil {
			msg = filepath.Base(p.j.Hops[i].File) + ": " + ce.Error()
		}
		if !said[msg] {
			said[msg] = true
			out = append(out, strings.Split(joinWrap(strings.Fields(clean(msg)), " ", w), "\n")...)
		}
	}
	return out
}

// errFrameMismatch marks the error of a frame that is not the packet its hop recorded (hopMismatch).
var errFrameMismatch = errors.New("the file changed since calipath read it; run calipath on it again")

// packetHead is the packet screen's first line: the journey, its flow, direction and status, and for
// one lost or not captured where it was last seen and expected next.
func packetHead(j *correlate.Journey) string {
	head := fmt.Sprintf("journey %d · flow %s · %s · %s", j.ID, clean(j.Flow), clean(j.Dir), clean(j.Status))
	switch {
	case j.Status == "lost" && len(j.LostUncaptured) > 0: // its place the captures cannot tell
		head += " " + clean(correlate.LostSpanNote(j.LastSeen, j.NextExpected, j.LostUncaptured))
	case j.Status == "lost":
		head += fmt.Sprintf(" after %s (next expected %s)", clean(j.LastSeen), clean(j.NextExpected))
	case j.Status == "not-captured" && j.LastSeen != "" && j.NextExpected != "":
		head += fmt.Sprintf(" after %s (next expected %s, not captured there)", clean(j.LastSeen), clean(j.NextExpected))
	case j.Status == "not-captured" && j.LastSeen != "":
		head += " after " + clean(j.LastSeen)
	}
	return head
}

func (p *packetView) view(c *common, w, h int) string {
	st := c.st
	if !p.has {
		return st.dim.Render("No packet selected: pick a row on the Timeline screen (3) and press enter.")
	}
	var b strings.Builder
	j := &p.j
	head := packetHead(j)
	if p.loading {
		head += " · reading frames…"
	}
	b.WriteString(st.header.Render(fit(head, w)) + "\n")
	notes := p.notes(w)
	for _, l := range notes {
		b.WriteString(st.warn.Render(fit(l, w)) + "\n")
	}
	n := len(j.Hops)
	if n == 0 {
		return b.String()
	}
	p.sel = clamp(p.sel, 0, n-1)
	vals := p.fieldValues(c)
	lo := p.layout(vals, w, h-len(notes))
	for _, f := range lo.shown[:lo.tableN] {
		var cells [][]string
		rowH := 1
		for i := lo.first; i < lo.first+lo.visible; i++ {
			cl := cellLines(f, vals[i][f], lo.colW-1)
			cells = append(cells, cl)
			rowH = max(rowH, len(cl))
		}
		for k := 0; k < rowH; k++ {
			label := ""
			if k == 0 {
				label = fieldNames[f]
			}
			line := st.dim.Render(fit(label, packetLabelW))
			for ci, i := 0, lo.first; i < lo.first+lo.visible; ci, i = ci+1, i+1 {
				v := vals[i][f]
				part := ""
				if k < len(cells[ci]) {
					part = cells[ci][k]
				}
				changed := i > 0 && f >= fEncap && f <= fIPID && v != vals[i-1][f]
				cell := " " + part
				if changed && k == 0 {
					cell = "*" + part
				}
				cell = fit(cell, lo.colW)
				switch {
				case f == fPoint && i == p.sel:
					cell = st.selected.Render(fit("›"+part, lo.colW))
				case changed:
					cell = st.changed.Render(cell)
				case f == fChecksum && v == "bad", f == fProblems && v != "":
					cell = st.bad.Render(cell)
				}
				line += cell
			}
			b.WriteString(line + "\n")
		}
	}
	if lo.hexRows < 1 || p.sel >= len(p.frames) { // hex dump off or no room
		return b.String()
	}
	fi := &p.frames[p.sel]
	b.WriteString(st.header.Render(fit(fmt.Sprintf("hex: %s frame %d (%d bytes, %d on the wire)",
		clean(filepath.Base(j.Hops[p.sel].File)), j.Hops[p.sel].Frame, len(fi.rec.Data), fi.rec.OrigLen), w)) + "\n")
	per, rows, data := lo.per, lo.hexRows, fi.rec.Data
	from := clamp(p.hexOff, 0, max(0, (len(data)+per-1)/per-rows)) * per
	for _, l := range hexLines(data[from:min(len(data), from+rows*per)], per, from) { // only what is shown
		b.WriteString(l + "\n")
	}
	return b.String()
}

// fieldValues returns the header table's cells: one row of fieldNames values per hop.
func (p *packetView) fieldValues(c *common) [][]string {
	vals := make([][]string, len(p.j.Hops))
	for i := range vals {
		vals[i] = p.hopFields(i)
		for _, f := range []int{fOuterSrc, fOuterDst, fSrc, fDst, fChanges} {
			vals[i][f] = c.short(vals[i][f])
		}
	}
	return vals
}

// packetLabelW is the width of the header table's labels.
const packetLabelW = 10

// cellLines lays a header-table value out in width cells: as it is when it fits; a frame as the end of
// its file name and its number; anything else wrapped onto at most three lines, so that no number is
// cut.
func cellLines(f int, v string, width int) []string {
	if width < 1 || ansi.StringWidth(v) <= width {
		return []string{v}
	}
	if f == fFrame { // …calia0150fc09e0.pcap:6
		r := []rune(v)
		for len(r) > 0 && ansi.StringWidth(string(r))+1 > width {
			r = r[1:]
		}
		return []string{"…" + string(r)}
	}
	lines := strings.Split(ansi.Wrap(v, width, " ,"), "\n")
	for i := range lines {
		lines[i] = strings.TrimLeft(lines[i], " ")
	}
	if len(lines) > 3 {
		lines = lines[:3]
		lines[2] = ansi.Truncate(lines[2], width-1, "") + "…"
	}
	return lines
}

// packetLayout is how the packet screen divides itself: the hops shown side by side, the header-table
// rows shown (rows empty at every hop, such as no tunnel or no TCP, are left out; a row can take
// more than one line), then the hex dump's title and lines.
type packetLayout struct {
	first, visible int   // the hops shown
	colW           int   // their columns' width
	shown          []int // fieldNames indexes with a value at some hop
	tableN         int   // how many of them fit
	tableH         int   // the lines they take
	per            int   // bytes per hex line
	hexRows        int   // hex lines shown (below 1: no hex dump)
}

func (p *packetView) layout(vals [][]string, w, h int) packetLayout {
	var lo packetLayout
	n := len(vals)
	lo.colW = 24
	lo.visible = clamp((w-packetLabelW)/lo.colW, 1, max(1, n))
	lo.colW = max(2, (w-packetLabelW)/lo.visible)
	lo.first = clamp(p.sel-lo.visible/2, 0, max(0, n-lo.visible))
	for f := range fieldNames {
		for i := range vals {
			if vals[i][f] != "" {
				lo.shown = append(lo.shown, f)
				break
			}
		}
	}
	room := h - 1
	if !p.noHex { // the header rows come first: the hex dump keeps its title and three lines
		room = min(room, max(4, h-1-4))
	}
	for _, f := range lo.shown {
		rowH := 1
		for i := lo.first; i < min(n, lo.first+lo.visible); i++ {
			rowH = max(rowH, len(cellLines(f, vals[i][f], lo.colW-1)))
		}
		if lo.tableH+rowH > room {
			break
		}
		lo.tableN++
		lo.tableH += rowH
	}
	lo.per = 16
	if w < 76 {
		lo.per = 8
	}
	if rest := h - 1 - lo.tableH; rest >= 2 && !p.noHex {
		lo.hexRows = rest - 1
	}
	return lo
}

// hexLines dumps data as offset, hex bytes and printable ASCII; every other byte shows as '.', so no
// payload byte reaches the terminal as a control character.
func hexLines(data []byte, per, base int) []string {
	var out []string
	for off := 0; off < len(data); off += per {
		end := min(len(data), off+per)
		var hx, asc strings.Builder
		for i := off; i < off+per; i++ {
			if i < end {
				fmt.Fprintf(&hx, "%02x ", data[i])
				ch := data[i]
				if ch < 0x20 || ch > 0x7e {
					ch = '.'
				}
				asc.WriteByte(ch)
			} else {
				hx.WriteString("   ")
			}
		}
		out = append(out, fmt.Sprintf("%04x  %s |%s|", base+off, hx.String(), asc.String()))
	}
	return out
}

// wgField is a WireGuard message's clear-text header as the packet screen shows it: its type, indexes
// and, for transport data, the counter and padded inner length (the packet it carries is encrypted).
func wgField(w *decode.WireGuard) string {
	switch w.Type {
	case decode.WGInitiation:
		return fmt.Sprintf("initiation sender 0x%08x", w.Sender)
	case decode.WGResponse:
		return fmt.Sprintf("response sender 0x%08x receiver 0x%08x", w.Sender, w.Receiver)
	case decode.WGCookie:
		return fmt.Sprintf("cookie reply receiver 0x%08x", w.Receiver)
	case decode.WGTransport:
		name := "transport"
		if w.Keepalive() {
			name = "keepalive"
		}
		return fmt.Sprintf("%s receiver 0x%08x counter %d padded %d", name, w.Receiver, w.Counter, w.PaddedLen())
	}
	return ""
}
