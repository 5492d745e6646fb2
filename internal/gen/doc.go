// Package gen writes synthetic but byte-accurate Calico captures together with their ground truth.
//
// From a seed, Generate builds a small cluster (nodes, pods, cali veths, tunl0 or vxlan.calico, eth0),
// runs TCP, UDP and ICMP flows between pods on different nodes, and writes one capture file per
// interface, as a user running tcpdump on every capture point would. Every IP packet a pod sends is a
// journey through up to six capture points (source cali, source tunnel, source eth0, destination eth0,
// destination tunnel, destination cali); the Truth records where each journey was captured (file, frame
// number, true and recorded time), where it was lost, which frames are duplicates and which packets are
// TCP retransmissions. TCP receivers acknowledge only the bytes that reached them, in order: a lost
// segment holds its receiver's ACKs at its start until a resend of it arrives (tcprcv.go).
//
// Generation is event driven in true-time order, so every file is written in nondecreasing recorded
// time with bounded memory, and frames are built by patching per-packet header templates.
//
// Example:
//
//	cfg := gen.DefaultConfig()
//	cfg.Dir = "/tmp/caps"
//	cfg.Packets = 10000
//	cfg.Mode = gen.ModeVXLAN
//	res, err := gen.Generate(cfg)
//	if err != nil { ... }
//	fmt.Println(res.Frames, len(res.Truth.Packets))
package gen
