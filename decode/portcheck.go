package decode

import (
	"errors"
	"fmt"
)

// portProbeFrames is how many records of each input PortConflicts reads to find frames on a default
// port: it reads only when a port was changed and nothing was on it.
const portProbeFrames = 1 << 16

// PortConflicts lists what the captures say against --vxlan-port and --wireguard-port: a port other
// than the default on which no frame of the inputs carried VXLAN (WireGuard), while frames on the
// default port parse as VXLAN (WireGuard). Taken as given, the port would make every encapsulated
// packet an unknown UDP datagram (paths cut short, false drops), so the caller refuses it with the
// message, naming the first such frame. It reads the inputs again (the first portProbeFrames records
// of each, stdin excepted) only in that case.
func PortConflicts(c *Capture, opts Options) []string {
	vx, wg := opts.tunnelPorts()
	var nVX, nWG int
	for i := range c.Points {
		nVX += c.Points[i].Traffic.VXLAN
		nWG += c.Points[i].Traffic.WireGuard
	}
	var out []string
	if vx != DefaultVXLANPort && nVX == 0 {
		if at := probePort(c, opts, func(p *Packet) bool { return p.Encap == EncapVXLAN }, DefaultVXLANPort, wg); at != "" {
			out = append(out, fmt.Sprintf("--vxlan-port %d: no frame of the inputs is VXLAN on UDP %d, but frames on UDP %d "+
				"are (%s): give --vxlan-port %d, or drop --vxlan-port (%d is the default)", vx, vx, DefaultVXLANPort, at,
				DefaultVXLANPort, DefaultVXLANPort))
		}
	}
	if wg != DefaultWireGuardPort && nWG == 0 {
		if at := probePort(c, opts, func(p *Packet) bool { return p.HasWG }, vx, DefaultWireGuardPort); at != "" {
			out = append(out, fmt.Sprintf("--wireguard-port %d: no frame of the inputs is WireGuard on UDP %d, but frames on "+
				"UDP %d are (%s): give --wireguard-port %d, or drop --wireguard-port (%d is the default)", wg, wg,
				DefaultWireGuardPort, at, DefaultWireGuardPort, DefaultWireGuardPort))
		}
	}
	return out
}

// probePort returns the first frame of the inputs that is, decoded with the ports vx and wg ("file
// frame N"), or "" when none of the first portProbeFrames records of each input is.
func probePort(c *Capture, opts Options, is func(*Packet) bool, vx, wg uint16) string {
	for _, f := range c.Files {
		if f.Path == "-" || f.Records == 0 {
			continue
		}
		r, cl, err := openInput(f.Path, opts)
		if err != nil {
			continue
		}
		at := probeFile(r, is, vx, wg)
		cl.Close()
		if at != 0 {
			return fmt.Sprintf("%s frame %d", f.Path, at)
		}
	}
	return ""
}

// probeFile returns the number of r's first frame that is, decoded with the ports vx and wg (0: none
// of its first portProbeFrames records).
func probeFile(r Reader, is func(*Packet) bool, vx, wg uint16) uint32 {
	var rec Record
	var p Packet
	for n := 0; n < portProbeFrames; n++ {
		err := r.Next(&rec)
		var re *RecordError
		switch {
		case errors.As(err, &re):
			continue
		case err != nil: // io.EOF or the rest unreadable
			return 0
		}
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, vx, wg, &p)
		if is(&p) {
			return rec.Frame
		}
	}
	return 0
}
