package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// message is one WireGuard message as captured: a UDP payload to or from the WireGuard port.
// The same message seen at several capture points is one message (same bytes, same digest).
type message struct {
	digest   string
	ts       int64 // first sighting
	src, dst netip.AddrPort
	payload  []byte
}

// Record is one line of wg-decrypted.jsonl: a message and, for a transport message, the inner
// packet it carried. The truth computer reads these lines and finds each captured message by its
// digest (the first 16 bytes of the SHA-256 of its UDP payload, in hex).
type Record struct {
	Digest    string  `json:"digest"`
	Type      int     `json:"type"`
	Src       string  `json:"src"`
	Dst       string  `json:"dst"`
	Len       int     `json:"len"`                // UDP payload bytes
	Sender    string  `json:"sender,omitempty"`   // handshake messages: the sender's index
	Receiver  string  `json:"receiver,omitempty"` // response, cookie reply, transport: the receiver's index
	Counter   *uint64 `json:"counter,omitempty"`  // transport
	Initiator string  `json:"initiator,omitempty"`
	Responder string  `json:"responder,omitempty"`
	Keepalive bool    `json:"keepalive,omitempty"` // a transport message with no inner packet
	Inner     string  `json:"inner,omitempty"`     // the decrypted inner packet, padding removed, hex
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

func index(b []byte) string { return fmt.Sprintf("0x%08x", le32(b)) }

type sessKey struct {
	dst      netip.AddrPort
	receiver uint32
}

// decrypt replays every handshake with the keys the daemons logged and decrypts every transport
// message. names maps a static public key to its node's name. A message that cannot be decrypted
// is an error: the truth would not know what it carried.
func decrypt(msgs []message, kls []keylogFile, names map[key]string) ([]Record, error) {
	sort.SliceStable(msgs, func(i, j int) bool {
		if msgs[i].ts != msgs[j].ts {
			return msgs[i].ts < msgs[j].ts
		}
		return msgs[i].digest < msgs[j].digest
	})
	recs := make([]Record, len(msgs))
	inits := map[sessKey]*initiation{} // by the initiator's address and index
	keys := map[sessKey]key{}
	// Handshakes first: a transport message can be seen before the response that made its key
	// (at another capture point, with a clock that is a little off).
	for pass := 0; pass < 2; pass++ {
		for i, m := range msgs {
			p := m.payload
			t := msgType(p)
			if (pass == 0) != (t != msgTransport) {
				continue
			}
			r := &recs[i]
			*r = Record{Digest: m.digest, Type: t, Src: m.src.String(), Dst: m.dst.String(), Len: len(p)}
			where := fmt.Sprintf("message %s (%s → %s, %d bytes)", m.digest, m.src, m.dst, len(p))
			switch t {
			case msgInitiation:
				if len(p) != sizeInitiation {
					return nil, fmt.Errorf("%s: initiation of %d bytes", where, len(p))
				}
				r.Sender = index(p[4:8])
				in, err := replayInitiation(p, kls)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				r.Initiator, r.Responder = names[in.staticPub], names[in.respPub]
				inits[sessKey{m.src, in.sender}] = in
			case msgResponse:
				if len(p) != sizeResponse {
					return nil, fmt.Errorf("%s: response of %d bytes", where, len(p))
				}
				r.Sender, r.Receiver = index(p[4:8]), index(p[8:12])
				in := inits[sessKey{m.dst, le32(p[8:12])}]
				if in == nil {
					return nil, fmt.Errorf("%s: answers initiation %s, which no capture holds", where, r.Receiver)
				}
				send, recv, err := consumeResponse(in, p)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				r.Initiator, r.Responder = names[in.staticPub], names[in.respPub]
				keys[sessKey{m.src, le32(p[4:8])}] = send // to the responder, addressed by its index
				keys[sessKey{m.dst, in.sender}] = recv    // to the initiator
			case msgCookie:
				if len(p) != sizeCookie {
					return nil, fmt.Errorf("%s: cookie reply of %d bytes", where, len(p))
				}
				r.Receiver = index(p[4:8])
			case msgTransport:
				// Padded to a multiple of 16, but never past the device MTU: any length will do.
				if len(p) < sizeTransport {
					return nil, fmt.Errorf("%s: transport message of %d bytes", where, len(p))
				}
				r.Receiver = index(p[4:8])
				ctr := binary.LittleEndian.Uint64(p[8:16])
				r.Counter = &ctr
				k, ok := keys[sessKey{m.dst, le32(p[4:8])}]
				if !ok {
					return nil, fmt.Errorf("%s: no handshake in the captures gave receiver %s a key", where, r.Receiver)
				}
				plain, err := aeadOpen(k, ctr, p[16:], nil)
				if err != nil {
					return nil, fmt.Errorf("%s: counter %d: %w", where, ctr, err)
				}
				inner, err := unpad(plain)
				if err != nil {
					return nil, fmt.Errorf("%s: counter %d: %w", where, ctr, err)
				}
				r.Keepalive = len(inner) == 0
				r.Inner = hex.EncodeToString(inner)
			default:
				return nil, fmt.Errorf("%s: not a WireGuard message (type byte %d)", where, p[0])
			}
		}
	}
	return recs, nil
}

// replayInitiation finds the logged ephemeral key of an initiation and replays it with its
// node's static key, trying each peer the node's keylog names.
func replayInitiation(p []byte, kls []keylogFile) (*initiation, error) {
	var ePub key
	copy(ePub[:], p[8:40])
	var errs []error
	for _, kf := range kls {
		for _, e := range kf.ephemerals {
			if e.public() != ePub {
				continue
			}
			for _, rp := range kf.remotes {
				in, err := consumeInitiation(p, kf.static, e, rp)
				if err == nil {
					in.keylogName = kf.name
					return in, nil
				}
				errs = append(errs, fmt.Errorf("%s: %w", kf.name, err))
			}
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("no keylog holds its ephemeral key")
	}
	return nil, errors.Join(errs...)
}

// unpad strips WireGuard's zero padding from a decrypted packet: the inner IP header says how
// long the packet is.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, nil
	}
	var n int
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return nil, fmt.Errorf("inner IPv4 packet of %d bytes", len(b))
		}
		n = int(binary.BigEndian.Uint16(b[2:4]))
	case 6:
		if len(b) < 40 {
			return nil, fmt.Errorf("inner IPv6 packet of %d bytes", len(b))
		}
		n = 40 + int(binary.BigEndian.Uint16(b[4:6]))
	default:
		return nil, fmt.Errorf("inner packet of IP version %d", b[0]>>4)
	}
	if n > len(b) {
		return nil, fmt.Errorf("inner packet of %d bytes in %d decrypted bytes", n, len(b))
	}
	for _, x := range b[n:] {
		if x != 0 {
			return nil, errors.New("padding is not zero")
		}
	}
	return b[:n], nil
}

// collect reads the WireGuard messages (UDP to or from port) out of capture files.
func collect(files []string, port uint16) ([]message, error) {
	byDigest := map[string]*message{}
	for _, f := range files {
		err := readPcap(f, func(ts int64, ip []byte) {
			ihl := int(ip[0]&0x0f) * 4
			if ip[9] != 17 || len(ip) < ihl+8 {
				return
			}
			u := ip[ihl:]
			sp, dp := binary.BigEndian.Uint16(u[0:2]), binary.BigEndian.Uint16(u[2:4])
			ul := int(binary.BigEndian.Uint16(u[4:6]))
			if (sp != port && dp != port) || ul < 8 || ul > len(u) {
				return
			}
			payload := u[8:ul]
			d := digest(payload)
			if m, ok := byDigest[d]; ok {
				m.ts = min(m.ts, ts)
				return
			}
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), sp)
			dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), dp)
			byDigest[d] = &message{digest: d, ts: ts, src: src, dst: dst, payload: append([]byte{}, payload...)}
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]message, 0, len(byDigest))
	for _, m := range byDigest {
		out = append(out, *m)
	}
	return out, nil
}

// labWireGuard reads the "wireguard" lines of a scenario's lab.log:
// wireguard node=NAME ip=IP port=PORT public_key=BASE64 ...
func labWireGuard(dir string) (names map[key]string, port uint16, err error) {
	f, err := os.Open(filepath.Join(dir, "lab.log"))
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	names = map[key]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "wireguard" {
			continue
		}
		m := map[string]string{}
		for _, x := range fields[1:] {
			if k, v, ok := strings.Cut(x, "="); ok {
				m[k] = v
			}
		}
		pk, err := parseKey(m["public_key"])
		if err != nil {
			return nil, 0, fmt.Errorf("lab.log: wireguard node=%s: %w", m["node"], err)
		}
		p, err := strconv.ParseUint(m["port"], 10, 16)
		if err != nil {
			return nil, 0, fmt.Errorf("lab.log: wireguard node=%s: port: %w", m["node"], err)
		}
		if port != 0 && uint16(p) != port {
			return nil, 0, errors.New("lab.log: the nodes' WireGuard ports differ")
		}
		names[pk], port = m["node"], uint16(p)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if len(names) == 0 {
		return nil, 0, errors.New("lab.log: no wireguard lines")
	}
	return names, port, nil
}

// decryptDir decrypts a scenario: its lab.log, its *-wg.keys keylogs, and every classic pcap
// file in it and in truth-captures/.
func decryptDir(dir string) ([]Record, error) {
	names, port, err := labWireGuard(dir)
	if err != nil {
		return nil, err
	}
	klNames, _ := filepath.Glob(filepath.Join(dir, "*-wg.keys"))
	if len(klNames) == 0 {
		return nil, fmt.Errorf("%s: no *-wg.keys keylog", dir)
	}
	var kls []keylogFile
	for _, n := range klNames {
		kf, err := readKeylog(n)
		if err != nil {
			return nil, err
		}
		kf.name = filepath.Base(n)
		kls = append(kls, kf)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	more, _ := filepath.Glob(filepath.Join(dir, "truth-captures", "*.pcap"))
	files = append(files, more...)
	msgs, err := collect(files, port)
	if err != nil {
		return nil, err
	}
	return decrypt(msgs, kls, names)
}

func writeRecords(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func decryptCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("decrypt", flag.ContinueOnError)
	dir := fs.String("dir", "", "scenario directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("decrypt: -dir is required")
	}
	recs, err := decryptDir(*dir)
	if err != nil {
		return err
	}
	return writeRecords(w, recs)
}
