package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nextTruth is what a lab scenario's truth.json says that a next step can name besides its pods
// (truthPodList): the anomalies it expects, and the policy rules it put in place.
type nextTruth struct {
	Expected []struct {
		Kind  string `json:"kind"`
		Where string `json:"where"`
	} `json:"expected_anomalies"`
	Rules []struct {
		Node string `json:"node"`
		Cmd  string `json:"cmd"`
	} `json:"rules"`
}

// truthInto reads lab scenario sc's truth.json into v.
func truthInto(t *testing.T, sc string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", sc, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// A kind's next step names what the captures show in place of its placeholders: the lost packets'
// destination and the node for a drop, the pod's cali for proxy ARP, and the bypassing pod, its
// interface and its destination for wireguard-bypass. Every expected value comes from the
// scenario's truth (the flows that lost packets on the expected segment, the pods' interfaces, the
// rule the scenario added), not from calipath.
func TestNextNamesLabValues(t *testing.T) {
	for _, sc := range []string{"tunl0-cali-drop", "state-blackhole-route", "df-ping-refused", "proxy-arp-off",
		"wireguard-bypass"} {
		t.Run(sc, func(t *testing.T) {
			tr, res := labSubset(t, sc, nil, nil)
			var nt nextTruth
			truthInto(t, sc, &nt)
			podNode, podIface := map[string]string{}, map[string]string{}
			for _, p := range truthPodList(t, sc) {
				podNode[p.ip], podIface[p.ip] = p.node, p.iface
			}
			for _, x := range nt.Expected {
				var want []string
				switch x.Kind {
				case "encap-drop", "delivery-drop":
					dsts := map[string]bool{}
					for _, f := range tr.Flows {
						for _, l := range f.Lost {
							if l.Segment == x.Where {
								dsts[f.Dst] = true
							}
						}
					}
					if len(dsts) != 1 {
						t.Fatalf("%s at %s: the truth's flows lost packets to %d destinations", x.Kind, x.Where, len(dsts))
					}
					for d := range dsts {
						want = []string{"ip route get " + d + "`", "on " + strings.Split(x.Where, "/")[0]}
					}
				case "proxy-arp-missing":
					node, iface, _ := strings.Cut(x.Where, "/")
					want = []string{"net.ipv4.conf." + iface + ".proxy_arp", "on " + node + "."}
				case "wireguard-bypass":
					var src string
					for _, r := range nt.Rules {
						if f := strings.Fields(r.Cmd); len(f) > 4 && f[3] == "from" {
							src = f[4]
						}
					}
					dsts := map[string]bool{}
					for _, f := range tr.Flows {
						if f.Src == src {
							dsts[f.Dst] = true
						}
					}
					if src == "" || len(dsts) != 1 {
						t.Fatalf("the truth's bypass rule names %q, whose flows go to %d destinations", src, len(dsts))
					}
					for d := range dsts {
						want = []string{"ip route get " + d + " from " + src + " iif " + podIface[src] + "`",
							"on " + podNode[src] + ":"}
					}
				default:
					continue
				}
				found := false
				for _, an := range res.Anomalies {
					if an.Kind != x.Kind || (an.Where.Point != x.Where && an.Where.From+"→"+an.Where.To != x.Where) {
						continue
					}
					found = true
					for _, s := range want {
						if !strings.Contains(an.Next, s) {
							t.Errorf("%s at %s: next %q does not say %q", x.Kind, x.Where, an.Next, s)
						}
					}
					if strings.ContainsAny(an.Next, "<>") {
						t.Errorf("%s at %s: next %q keeps a placeholder", x.Kind, x.Where, an.Next)
					}
				}
				if !found {
					t.Errorf("no %s at %s", x.Kind, x.Where)
				}
			}
		})
	}
}

// A placeholder whose value the packets do not agree on stays, for the reader to fill in.
func TestNamedKeepsUnknown(t *testing.T) {
	var one, two oneValue
	one.add("10.244.2.7")
	one.add("")
	one.add("10.244.2.7")
	two.add("10.244.2.7")
	two.add("10.244.2.8")
	two.add("10.244.2.7")
	if one.v != "10.244.2.7" || two.v != "" {
		t.Fatalf("one value %q, two values %q", one.v, two.v)
	}
	an := Anomaly{Next: "Check `ip route get <dst>` from <pod IP> on the node."}
	an.named("", "<dst>", two.v, "<pod IP>", one.v)
	if an.Next != "Check `ip route get <dst>` from 10.244.2.7 on the node." {
		t.Fatalf("next %q", an.Next)
	}
	an.named("node-b")
	if an.Next != "Check `ip route get <dst>` from 10.244.2.7 on node-b." {
		t.Fatalf("next %q", an.Next)
	}
}
