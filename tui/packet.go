package tui

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
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
		}
		return framesMsg{journey: id, flow: flow, frames: out}
	}
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
			lo := p.layout(p.fieldValues(), w, h)
			lines := (len(p.frames[p.sel].rec.Data) + lo.per - 1) / lo.per
			scrollKey(msg, km, &p.hexOff, max(1, lines-lo.hexRows+1), lo.hexRows) // the last offset shows the last line
		}
	}
	return nil
}

// fields lists the rows of the header table for one hop.
var fieldNames = []string{"point", "frame", "time", "delta", "encap", "outer src", "outer dst", "outer ttl",
	"vni", "src", "dst", "ttl", "proto", "ip id", "length", "tcp", "checksum", "problems", "changes"}

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

func protoName(n uint8) string {
	switch n {
	case 1:
		return "icmp"
	case 4:
		return "ipip"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	}
	return fmt.Sprint(n)
}

func tcpFlags(f uint8) string {
	names := []string{"F", "S", "R", "P", ".", "U", "E", "C"}
	var b strings.Builder
	for i, n := range names {
		if f&(1<<i) != 0 {
			b.WriteString(n)
		}
	}
	return b.String()
}

// hopFields returns the values of fieldNames for hop i.
func (p *packetView) hopFields(i int) []string {
	h := p.j.Hops[i]
	v := make([]string, len(fieldNames))
	v[0] = clean(h.Point)
	v[1] = clean(filepath.Base(h.File)) + fmt.Sprintf(":%d", h.Frame)
	v[2] = fmtClock(h.Ts)
	if i > 0 {
		v[3] = "+" + fmtDur(h.DeltaNs)
	}
	v[4] = clean(h.Encap)
	v[11] = fmt.Sprint(h.TTL)
	v[18] = clean(strings.Join(h.Changes, ", "))
	if i >= len(p.frames) {
		return v
	}
	fi := &p.frames[i]
	if fi.err != nil {
		v[17] = clean(fi.err.Error())
		return v
	}
	pk := &fi.pkt
	if pk.Encap != decode.EncapNone {
		v[5], v[6] = addrString(&pk.Outer), dstString(&pk.Outer)
		v[7] = fmt.Sprint(pk.Outer.TTL)
		if pk.Encap == decode.EncapVXLAN {
			v[8] = fmt.Sprint(pk.VNI)
		}
	}
	if pk.HasARP {
		v[9] = netip.AddrFrom4(pk.ARP.SPA).String()
		v[10] = netip.AddrFrom4(pk.ARP.TPA).String()
		v[12] = fmt.Sprintf("arp op %d", pk.ARP.Op)
	} else if pk.Inner.Version != 0 {
		v[9], v[10] = addrString(&pk.Inner), dstString(&pk.Inner)
		v[11] = fmt.Sprint(pk.Inner.TTL)
		v[12] = protoName(pk.Inner.Proto)
		if pk.HasTCP || pk.HasUDP {
			v[9] += fmt.Sprintf(":%d", pk.Sport)
			v[10] += fmt.Sprintf(":%d", pk.Dport)
		}
		if pk.HasICMP {
			v[12] += fmt.Sprintf(" %d/%d", pk.ICMP.Type, pk.ICMP.Code)
		}
		v[13] = fmt.Sprint(pk.Inner.ID)
		v[14] = fmt.Sprint(pk.Inner.TotalLen)
	}
	if pk.HasTCP {
		v[15] = fmt.Sprintf("%s seq %d ack %d", tcpFlags(pk.TCP.Flags), pk.TCP.Seq, pk.TCP.Ack)
	}
	v[16] = pk.Checksum.String()
	v[17] = strings.Join(pk.Errs.Strings(), ",")
	return v
}

func (p *packetView) view(c *common, w, h int) string {
	st := c.st
	if !p.has {
		return st.dim.Render("No packet selected: pick a row on the Timeline screen (3) and press enter.")
	}
	var b strings.Builder
	j := &p.j
	head := fmt.Sprintf("journey %d · flow %s · %s · %s", j.ID, clean(j.Flow), clean(j.Dir), clean(j.Status))
	if j.Status == "lost" {
		head += fmt.Sprintf(" after %s (next expected %s)", clean(j.LastSeen), clean(j.NextExpected))
	}
	if p.loading {
		head += " · reading frames…"
	}
	b.WriteString(st.header.Render(fit(head, w)) + "\n")
	n := len(j.Hops)
	if n == 0 {
		return b.String()
	}
	p.sel = clamp(p.sel, 0, n-1)
	labelW := 10
	colW := 24
	visible := clamp((w-labelW)/colW, 1, n)
	colW = (w - labelW) / visible
	first := clamp(p.sel-visible/2, 0, n-visible)
	vals := p.fieldValues()
	lo := p.layout(vals, w, h)
	for _, f := range lo.shown[:lo.tableH] {
		line := st.dim.Render(fit(fieldNames[f], labelW))
		for i := first; i < first+visible; i++ {
			v := vals[i][f]
			changed := i > 0 && f >= 4 && f < 16 && v != vals[i-1][f]
			cell := " " + v
			if changed {
				cell = "*" + v
			}
			cell = fit(cell, colW)
			switch {
			case f == 0 && i == p.sel:
				cell = st.selected.Render(fit("›"+v, colW))
			case changed:
				cell = st.changed.Render(cell)
			case f == 16 && v == "bad", f == 17 && v != "":
				cell = st.bad.Render(cell)
			}
			line += cell
		}
		b.WriteString(line + "\n")
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
func (p *packetView) fieldValues() [][]string {
	vals := make([][]string, len(p.j.Hops))
	for i := range vals {
		vals[i] = p.hopFields(i)
	}
	return vals
}

// packetLayout is how the packet screen divides its height: the header-table rows shown (rows empty
// at every hop, such as no tunnel or no TCP, are left out), then the hex dump's title and lines.
type packetLayout struct {
	shown   []int // fieldNames indexes with a value at some hop
	tableH  int   // how many of them fit
	per     int   // bytes per hex line
	hexRows int   // hex lines shown (below 1: no hex dump)
}

func (p *packetView) layout(vals [][]string, w, h int) packetLayout {
	var lo packetLayout
	for f := range fieldNames {
		for i := range vals {
			if vals[i][f] != "" {
				lo.shown = append(lo.shown, f)
				break
			}
		}
	}
	lo.tableH = len(lo.shown)
	if !p.noHex {
		lo.tableH = min(lo.tableH, max(4, h-1-(h-1)/3))
	}
	lo.tableH = min(lo.tableH, h-1)
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
