package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/gopacket/pcapgo"
)

// calicoMAC is the host end of every pod's veth (Felix sets it): never a pod's.
var calicoMAC = net.HardwareAddr{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}

// podMACs sets each pod's MAC from the capture of its cali (see the package comment): a pod line's
// mac= is checked against it, a pod without either keeps none.
func podMACs(dir string, l *lab) error {
	for i := range l.pods {
		p := &l.pods[i]
		seen, err := caliMAC(dir, p)
		if err != nil {
			return fmt.Errorf("pod %s: %v", p.name, err)
		}
		switch {
		case p.mac == "":
			p.mac = seen
		case seen != "" && !strings.EqualFold(seen, p.mac):
			return fmt.Errorf("pod %s: lab.log says mac=%s, its cali's capture shows %s", p.name, p.mac, seen)
		}
		if p.mac != "" {
			if _, err := net.ParseMAC(p.mac); err != nil {
				return fmt.Errorf("pod %s: mac %q: %v", p.name, p.mac, err)
			}
		}
	}
	return nil
}

// caliMAC returns the one link address other than ee:ee:ee:ee:ee:ee, broadcast and multicast that
// the Ethernet capture of pod p's cali holds ("" when it holds none, or there is no such capture).
func caliMAC(dir string, p *labPod) (string, error) {
	var path string
	for _, c := range []string{filepath.Join(dir, p.node+"-"+p.iface+".pcap"), filepath.Join(dir, "truth-captures", p.node+"-"+p.iface+".pcap")} {
		if _, err := os.Stat(c); err == nil {
			path = c
			break
		}
	}
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	if r.LinkType() != 1 { // Ethernet
		return "", fmt.Errorf("%s: link type %d, want Ethernet", path, r.LinkType())
	}
	macs := map[string]bool{}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %v", path, err)
		}
		if len(data) < 12 {
			continue
		}
		for _, m := range []net.HardwareAddr{data[0:6], data[6:12]} {
			if m[0]&1 == 0 && m.String() != calicoMAC.String() {
				macs[m.String()] = true
			}
		}
	}
	var list []string
	for m := range macs {
		list = append(list, m)
	}
	sort.Strings(list)
	switch len(list) {
	case 0:
		return "", nil
	case 1:
		return list[0], nil
	}
	return "", fmt.Errorf("%s: several link addresses besides ee:ee:ee:ee:ee:ee: %s", path, strings.Join(list, ", "))
}

// macLine is the workload endpoint's spec.mac line, or nothing for a pod whose MAC is not known.
func macLine(mac string) string {
	if mac == "" {
		return ""
	}
	return "    mac: " + strings.ToLower(mac) + "\n"
}
