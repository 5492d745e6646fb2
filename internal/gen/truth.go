package gen

import (
	"bufio"
	"encoding/json"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// Truth is the ground truth of a generation run: what every packet did, independent of the captures.
// Times are nanoseconds since the Unix epoch.
type Truth struct {
	Seed    uint64        `json:"seed"`
	Mode    string        `json:"mode"`
	Format  string        `json:"format"`
	Start   int64         `json:"start"`
	Nodes   []NodeTruth   `json:"nodes"`
	Files   []FileTruth   `json:"files"`
	Flows   []FlowTruth   `json:"flows"`
	ARP     []ARPTruth    `json:"arp"`
	Packets []PacketTruth `json:"packets"` // indexed by ID
}

// NodeTruth describes one node and its clock.
type NodeTruth struct {
	Name     string        `json:"name"`
	IP       netip.Addr    `json:"ip"`
	MAC      string        `json:"mac"`
	VTEPMAC  string        `json:"vtep_mac"`
	Offset   time.Duration `json:"offset_ns"` // recorded = true + Offset + (true-Start)·DriftPPM/1e6 (+ Step)
	DriftPPM float64       `json:"drift_ppm"`
	Step     *ClockStep    `json:"step,omitempty"` // from true time Start + Step.At on, Step.Size more
}

// ClockStep is a step of a node's clock: from At after the start (true time) on, every time it
// records is Size later.
type ClockStep struct {
	At   time.Duration `json:"at_ns"`
	Size time.Duration `json:"size_ns"`
}

// FileTruth describes one capture file (one capture point).
type FileTruth struct {
	Name     string `json:"name"`  // file name inside the output directory
	Node     string `json:"node"`  // node it was captured on
	Iface    string `json:"iface"` // interface name (caliXXXXXXXXXXX, tunl0, vxlan.calico, eth0)
	Point    string `json:"point"` // "cali", "tunnel" or "eth0"
	Pod      string `json:"pod,omitempty"`
	LinkType int    `json:"linktype"`
	Frames   int    `json:"frames"` // frames written, ARP and duplicates included
}

// FlowTruth describes one flow. Client is the pod that opened it; direction 0 is client → server.
type FlowTruth struct {
	ID       int        `json:"id"`
	Proto    uint8      `json:"proto"` // 6, 17 or 1
	Client   string     `json:"client"`
	Server   string     `json:"server"`
	ClientIP netip.Addr `json:"client_ip"`
	ServerIP netip.Addr `json:"server_ip"` // the backend pod, also for DNAT flows
	Sport    uint16     `json:"sport"`     // client port (ICMP: echo identifier)
	Dport    uint16     `json:"dport"`     // server (backend) port
	DNAT     *NAT       `json:"dnat,omitempty"`
	IPID0DF  bool       `json:"ipid0_df,omitempty"`
	Packets  int        `json:"packets"`
}

// NAT is the ClusterIP service a DNAT flow addressed; the client node rewrote it to the backend.
type NAT struct {
	ServiceIP   netip.Addr `json:"service_ip"`
	ServicePort uint16     `json:"service_port"`
}

// ARPTruth is one proxy ARP exchange on a pod's cali interface.
type ARPTruth struct {
	Pod          string `json:"pod"`
	File         int    `json:"file"`
	RequestFrame uint32 `json:"request_frame"`
	ReplyFrame   uint32 `json:"reply_frame"`
	RequestTime  int64  `json:"request_time"`
	ReplyTime    int64  `json:"reply_time"`
}

// PacketTruth is the journey of one IP packet sent by a pod.
type PacketTruth struct {
	ID        int64     `json:"id"`
	Flow      int       `json:"flow"`
	Dir       uint8     `json:"dir"` // 0 client → server, 1 server → client
	IPID      uint16    `json:"ipid"`
	Seq       uint32    `json:"seq"` // TCP sequence number; ICMP echo id<<16|seq; 0 for UDP
	Len       int       `json:"len"` // IP total length
	Retrans   bool      `json:"retrans,omitempty"`
	RetransOf int64     `json:"retrans_of"` // ID of the packet resent, -1 if none
	Captures  []Capture `json:"captures"`   // in time order; hop order except for duplicates
	Hops      int       `json:"hops"`       // capture points on the full path (6, or 4 in BGP mode)
	Lost      bool      `json:"lost,omitempty"`
	LostAfter int       `json:"lost_after"`        // hop after which it was lost, -1 if delivered
	Segment   string    `json:"segment,omitempty"` // "fileA -> fileB" where it was lost
}

// Capture is one frame of a packet in one capture file.
type Capture struct {
	Hop      int    `json:"hop"`  // position on the path, 0 = the sender's cali
	File     int    `json:"file"` // index into Truth.Files
	Frame    uint32 `json:"frame"`
	True     int64  `json:"true"`
	Recorded int64  `json:"recorded"` // timestamp written in the file
	Dup      bool   `json:"dup,omitempty"`
	Partial  bool   `json:"partial_csum,omitempty"` // L4 checksum is an offload-style partial sum
}

// WriteJSON writes the truth as one indented JSON document.
func (t *Truth) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", " ")
	if err := enc.Encode(t); err != nil {
		return err
	}
	return bw.Flush()
}

// appendPacketJSON appends p as one JSON line (the same fields json.Marshal writes, faster).
func appendPacketJSON(b []byte, p *PacketTruth) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"flow":`...)
	b = strconv.AppendInt(b, int64(p.Flow), 10)
	b = append(b, `,"dir":`...)
	b = strconv.AppendUint(b, uint64(p.Dir), 10)
	b = append(b, `,"ipid":`...)
	b = strconv.AppendUint(b, uint64(p.IPID), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, uint64(p.Seq), 10)
	b = append(b, `,"len":`...)
	b = strconv.AppendInt(b, int64(p.Len), 10)
	if p.Retrans {
		b = append(b, `,"retrans":true`...)
	}
	b = append(b, `,"retrans_of":`...)
	b = strconv.AppendInt(b, p.RetransOf, 10)
	b = append(b, `,"captures":[`...)
	for i, c := range p.Captures {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"hop":`...)
		b = strconv.AppendInt(b, int64(c.Hop), 10)
		b = append(b, `,"file":`...)
		b = strconv.AppendInt(b, int64(c.File), 10)
		b = append(b, `,"frame":`...)
		b = strconv.AppendUint(b, uint64(c.Frame), 10)
		b = append(b, `,"true":`...)
		b = strconv.AppendInt(b, c.True, 10)
		b = append(b, `,"recorded":`...)
		b = strconv.AppendInt(b, c.Recorded, 10)
		if c.Dup {
			b = append(b, `,"dup":true`...)
		}
		if c.Partial {
			b = append(b, `,"partial_csum":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `],"hops":`...)
	b = strconv.AppendInt(b, int64(p.Hops), 10)
	if p.Lost {
		b = append(b, `,"lost":true`...)
	}
	b = append(b, `,"lost_after":`...)
	b = strconv.AppendInt(b, int64(p.LostAfter), 10)
	if p.Segment != "" {
		b = append(b, `,"segment":`...)
		b = strconv.AppendQuote(b, p.Segment)
	}
	return append(b, "}\n"...)
}
