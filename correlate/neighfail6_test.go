package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// The lab's state-neigh-failed6 (scenarios-pending: calipath's drop kind there is not yet the truth's):
// node-b routes pod-a's block via fd00:20::99 on its eth0, which answers no neighbour solicitation, and
// answers pod-b's queued packets with ICMPv6 address-unreachable (type 1 code 3). The loss on node-b's
// segment must name that next hop from node-b's unanswered solicitations at its eth0, as the IPv4
// scenario names the ARP target, and its next step must be IPv6's (`ip -6 route get`, `ip -6 neigh
// show fd00:20::99`). Before, only ARP requests were looked for: the message said no capture of node-b
// held its unanswered requests (a capture filtered to IP carries no ARP) and named no next hop. With
// node-b's dumps, the FAILED neighbour entry it cites says "neighbour solicitations unanswered" (it
// said "ARP unanswered").
func TestNeighFailed6NextHop(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios-pending", "state-neigh-failed6")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var per []string
	for _, p := range pcaps {
		if !strings.HasSuffix(p, "-any.pcap") {
			per = append(per, p)
		}
	}
	for name, files := range map[string][]string{"all": pcaps, "dedicated": per} {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		var seg *Anomaly
		for i, an := range res.Anomalies {
			if an.Where.From == "node-b/cali2f5353dd8c5" && strings.Contains(an.Message, "address-unreachable (ICMPv6 type 1 code 3)") {
				seg = &res.Anomalies[i]
			}
		}
		if seg == nil {
			t.Errorf("%s: no loss on node-b's segment from its cali chained to ICMPv6 address-unreachable:%s", name, nfList(res))
			continue
		}
		wantAll(t, name+": the loss", seg.Message, []string{"node-b's neighbour solicitations for fd00:20::99 at node-b/eth0 got no advertisement",
			"see nd-unanswered", "via fd00:20::99, and nothing answers for that next hop"}, []string{"ARP", "not named here"})
		wantAll(t, name+": its next", seg.Next, []string{"fd00:20::99 does not answer neighbour discovery", "`ip -6 route get fd00:244::5`",
			"`ip -6 neigh show fd00:20::99`"}, []string{"ARP", "`ip neigh"})
	}
	meta, _, err := cluster.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	res := Correlate(decode.Load(per, decode.Options{}, decode.PointConfig{}), Options{Cluster: meta})
	n := 0
	for _, an := range res.Anomalies {
		for _, e := range an.ExplainedBy {
			if e.Kind == "neighbour-failed" {
				n++
				wantAll(t, "the dump's explanation", e.Why, []string{"node-b could not resolve fd00:20::99",
					"(neighbour solicitations unanswered)"}, []string{"ARP"})
			}
		}
	}
	if n == 0 {
		t.Errorf("no anomaly cites node-b's FAILED entry for fd00:20::99:%s", nfList(res))
	}
}
