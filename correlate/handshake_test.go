package correlate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// handshakeByObs is handshake as it reads each hop's point and corrected time from its Observation:
// what handshake's reading of the arena must give.
func handshakeByObs(a *analysis, fl *flowAcc) []PointRTT {
	out := []PointRTT{}
	synAck := false
	for _, j := range fl.journeys[s2c] {
		o, _ := a.obs(a.hops(int(j))[0])
		synAck = synAck || o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck
	}
	if fl.client.proto != 6 || !synAck {
		return out
	}
	syn := map[int]int64{}
	done := map[int]bool{}
	for _, j := range fl.journeys[c2s] {
		h := a.hops(int(j))
		o, _ := a.obs(a.w.pktHop(h))
		isSyn := o.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn
		isAck := o.TCPFlags&(decode.TCPSyn|decode.TCPAck|decode.TCPRst) == decode.TCPAck
		for _, g := range h {
			p, t := a.point(g), a.ts(g)
			if _, ok := syn[p]; isSyn && !ok {
				syn[p] = t
			}
			if st, ok := syn[p]; isAck && ok && !done[p] {
				done[p] = true
				out = append(out, PointRTT{Point: a.w.c.Points[p].ID, RTT: t - st})
			}
		}
		if isAck && len(syn) > 0 {
			break
		}
	}
	slices.SortFunc(out, func(x, y PointRTT) int { return strings.Compare(x.Point, y.Point) })
	return out
}

// The handshake RTTs per point are those the hops' Observations give (corrected times), with a
// clock off (corrected times differ from the captured ones) and with loss and resent segments.
func TestHandshakePerPoint(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets, cfg.Seed = 600, 4000, 5
	cfg.LossPerHop, cfg.RetransRate = 0.02, 0.02
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	_, res := runGen(t, cfg)
	a := res.analysis
	n := 0
	for fi, fl := range a.flows {
		got, want := a.handshake(fl, []PointRTT{}), handshakeByObs(a, fl)
		if !slices.Equal(got, want) {
			t.Fatalf("flow %d: handshake %v, want %v", fi, got, want)
		}
		n += len(got)
	}
	if n < 100 {
		t.Fatalf("only %d handshake RTTs measured: the test shows little", n)
	}
}
