package cluster

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// The lab's node-a, dumped by lab.sh (ip -d -j addr show and ip -o link in the same namespace).
func TestParseIPAddrLab(t *testing.T) {
	f, err := os.Open("testdata/ipaddr/node-a-ipaddr.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	links, err := ParseIPAddr(f)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := os.Open("testdata/ipaddr/node-a-links.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	want, err := decode.ParseIPLink(lf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, IfNames(links)); diff != "" {
		t.Errorf("names (-ip -o link +ip -j addr):\n%s", diff)
	}
	byName := map[string]IPAddrLink{}
	for _, l := range links {
		byName[l.Name] = l
	}
	eth0, tunl0 := byName["eth0"], byName["tunl0"]
	if eth0.MTU != 1500 || eth0.Kind != "veth" || len(eth0.Addrs) != 1 || eth0.Addrs[0] != netip.MustParsePrefix("192.168.10.2/24") {
		t.Errorf("eth0 = %+v", eth0)
	}
	if tunl0.MTU != 1480 || tunl0.Addrs[0] != netip.MustParsePrefix("10.244.1.0/32") {
		t.Errorf("tunl0 = %+v", tunl0)
	}
}

func TestParseIPAddrBad(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"empty array":  "[]",
		"text":         "1: lo: <LOOPBACK> mtu 65536",
		"cut":          `[{"ifindex":1,"ifname":"lo"`,
		"no index":     `[{"ifname":"lo"}]`,
		"no name":      `[{"ifindex":1}]`,
		"zero index":   `[{"ifindex":0,"ifname":"lo"}]`,
		"twice":        `[{"ifindex":1,"ifname":"lo"},{"ifindex":1,"ifname":"eth0"}]`,
		"bad address":  `[{"ifindex":1,"ifname":"lo","addr_info":[{"local":"x","prefixlen":8}]}]`,
		"bad prefix":   `[{"ifindex":1,"ifname":"lo","addr_info":[{"local":"10.0.0.1","prefixlen":99}]}]`,
		"not an array": `{"ifindex":1,"ifname":"lo"}`,
	} {
		if l, err := ParseIPAddr(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error, got %+v", name, l)
		}
	}
	// Output after the array (the next command of a Retina ip-resources.txt) is not read.
	l, err := ParseIPAddr(strings.NewReader(`[{"ifindex":2,"ifname":"eth0","mtu":9000}]` + "\n/usr/sbin/ip -d -j neighbor show\n\n[]"))
	if err != nil || len(l) != 1 || l[0].MTU != 9000 {
		t.Errorf("got %+v, %v", l, err)
	}
}
