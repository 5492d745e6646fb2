// Package decode reads capture files and turns each frame into a compact Observation.
//
// A Reader streams the records of a pcap or pcapng file (optionally gzip-compressed) without loading
// it whole; a Decoder turns each record into a full Packet (every header field calipath knows) and a
// 32-byte Observation that correlation keeps (with its NAT-tolerant fingerprint beside it, and its time
// and frame number in its file's Stamps). Record data and Packet.Payload alias the reader's
// buffer and are overwritten by the next read: everything else is copied into value types.
//
// The scan decodes the frames of the usual shape (Ethernet, raw or IPv4 link; IPv4 without options or
// fragments; at most one IP-in-IP header; TCP, UDP or ICMP echo with right checksums) by a fast path
// that writes the Packet, the Observation and the fingerprint from one read of the headers
// (fastpath.go); every other frame takes the usual path, and FuzzFastPath holds the two to the same
// results.
//
// Only this package's tests import gopacket: DecodeSlow, the reference decoder the fast path is held
// to, is test code, so that the program carries none of gopacket's global tables (megabytes of
// pointers that every garbage collection would scan) and none of its start-up.
package decode
