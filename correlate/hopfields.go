package correlate

import (
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/units"
)

// hopTCPFlags returns a TCP frame's flags as tcpdump prints them, or "" for other frames (and for IP
// fragments after the first, which carry no TCP header).
func hopTCPFlags(o *decode.Observation) string {
	if o.Proto != 6 || o.Flags&(decode.FlagARP|decode.FlagLaterFragment|decode.FlagICMPError) != 0 {
		return ""
	}
	return tcpFlagNames[o.TCPFlags]
}

// tcpFlagNames holds units.TCPFlags of every flags byte, so that a hop takes no allocation for them.
var tcpFlagNames = func() (t [256]string) {
	for i := range t {
		t[i] = units.TCPFlags(uint8(i))
	}
	return t
}()
