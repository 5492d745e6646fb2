// Command mkfix writes the pcapng fixtures of testdata/bundles from the committed lab captures:
//
//   - gadget/incident.pcapng: what Inspektor Gadget's tcpdump gadget writes (inspektor-gadget
//     cmd/kubectl-gadget/trace/tcpdump.go): a section from "InspektorGadget", a first interface with
//     no packets (pcapgo's default one), then one interface per container named after it and described
//     "Node: <node>, Namespace: <ns>, Pod: <pod>", Ethernet, and name resolution blocks written the way
//     its getDNSBlock does ("<ip with dashes>.<ns>.pod"). The packets are healthy-ipip's pod-veth
//     frames: a veth pair carries the same Ethernet frame at both ends, so they are what the pods'
//     eth0 saw. (The gadget's snaplen defaults to 68; these keep whole frames.)
//   - capture-loss/router-1-eth1.pcapng: underlay-loss's router-1/eth1 capture with an Interface
//     Statistics Block at its end saying the capture dropped 6 packets (isb_ifdrop), as if the six
//     packets that vanished before it had been lost by the capture, not the network.
//
// Run from the repository's top: go run ./testdata/bundles/mkfix
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

type frame struct {
	ci   gopacket.CaptureInfo
	data []byte
	id   int
}

func read(path string, id int) []frame {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, frame{ci, append([]byte(nil), data...), id})
	}
	return out
}

// dnsBlock is a Name Resolution Block as inspektor-gadget's getDNSBlock builds it.
func dnsBlock(ip netip.Addr, name string) []byte {
	var b bytes.Buffer
	b.Write(make([]byte, 8))
	plen := 4 + 4 + len(name) + 1
	if plen%4 != 0 {
		plen += 4 - plen%4
	}
	rec := make([]byte, plen)
	binary.LittleEndian.PutUint16(rec[0:], 1)
	binary.LittleEndian.PutUint16(rec[2:], uint16(4+len(name)+1))
	a := ip.As4()
	copy(rec[4:8], a[:])
	copy(rec[8:], name)
	b.Write(rec)
	b.Write(make([]byte, 4)) // nrb_record_end
	b.Write(make([]byte, 4)) // trailing length
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[0:], 4)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[len(out)-4:], uint32(len(out)))
	return out
}

func gadget() {
	lab := "testdata/lab/scenarios/healthy-ipip/"
	pods := []struct{ node, pod, file, ip string }{
		{"node-a", "pod-a", lab + "node-a-cali5e1c4d6c68c.pcap", "10.244.1.5"},
		{"node-b", "pod-b", lab + "node-b-cali2f5353dd8c5.pcap", "10.244.2.7"},
	}
	var all []frame
	for i, p := range pods {
		all = append(all, read(p.file, i)...)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].ci.Timestamp.Before(all[b].ci.Timestamp) })
	if err := os.MkdirAll("testdata/bundles/gadget", 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create("testdata/bundles/gadget/incident.pcapng")
	if err != nil {
		log.Fatal(err)
	}
	dummy := pcapgo.DefaultNgInterface
	dummy.LinkType = layers.LinkTypeEthernet
	w, err := pcapgo.NewNgWriterInterface(f, dummy, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "InspektorGadget", Comment: "using gopacket"}})
	if err != nil {
		log.Fatal(err)
	}
	ids := make([]int, len(pods))
	for i, p := range pods {
		ids[i], err = w.AddInterface(pcapgo.NgInterface{Name: p.pod, Description: fmt.Sprintf("Node: %s, Namespace: %s, Pod: %s", p.node, "default", p.pod),
			LinkType: layers.LinkTypeEthernet, TimestampResolution: 9})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	for _, p := range pods {
		ip := netip.MustParseAddr(p.ip)
		if _, err := f.Write(dnsBlock(ip, strings.ReplaceAll(p.ip, ".", "-")+".default.pod")); err != nil {
			log.Fatal(err)
		}
	}
	for _, fr := range all {
		ci := fr.ci
		ci.InterfaceIndex = ids[fr.id]
		if err := w.WritePacket(ci, fr.data); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func captureLoss() {
	frames := read("testdata/lab/scenarios/underlay-loss/router-1-eth1.pcap", 0)
	if err := os.MkdirAll("testdata/bundles/capture-loss", 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create("testdata/bundles/capture-loss/router-1-eth1.pcapng")
	if err != nil {
		log.Fatal(err)
	}
	intf := pcapgo.NgInterface{Name: "eth1", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9}
	w, err := pcapgo.NewNgWriterInterface(f, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "calipath mkfix"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			log.Fatal(err)
		}
	}
	first, last := frames[0].ci.Timestamp, frames[len(frames)-1].ci.Timestamp
	if err := w.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{LastUpdate: last, StartTime: first, EndTime: last,
		PacketsReceived: uint64(len(frames) + 6), PacketsDropped: 6}); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	gadget()
	captureLoss()
}
