//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun/tuntest"
)

// node is one wireguard-go device of the in-process pair: a channel TUN and the lab's UDP bind
// on loopback.
type node struct {
	priv key
	tun  *tuntest.ChannelTUN
	dev  *device.Device
	bind *udpBind
	addr netip.AddrPort
	ip   netip.Addr
}

type captured struct {
	mu   sync.Mutex
	msgs []message
}

func listenPort(t *testing.T, d *device.Device) uint16 {
	t.Helper()
	get, err := d.IpcGet()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(get, "\n") {
		if v, ok := strings.CutPrefix(l, "listen_port="); ok {
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				t.Fatal(err)
			}
			return uint16(p)
		}
	}
	t.Fatal("no listen_port")
	return 0
}

// pair starts two wireguard-go devices that talk over loopback UDP through udpBind, with the
// recorder standing in for crypto/rand as in the daemon, and keylogs written to dir.
func pair(t *testing.T, dir string, capt *captured) [2]*node {
	t.Helper()
	rec := &recorder{src: rand.Reader}
	old := rand.Reader
	rand.Reader = rec
	t.Cleanup(func() { rand.Reader = old })
	var ns [2]*node
	for i := range ns {
		k, err := genKey()
		if err != nil {
			t.Fatal(err)
		}
		ns[i] = &node{priv: k, tun: tuntest.NewChannelTUN(), ip: netip.MustParseAddr(fmt.Sprintf("10.244.%d.5", i+1))}
	}
	for i, n := range ns {
		peer := ns[1-i]
		kl, err := newKeylog(filepath.Join(dir, fmt.Sprintf("node-%d-wg.keys", i)), n.priv, []key{peer.priv.public()}, rec)
		if err != nil {
			t.Fatal(err)
		}
		n.bind = &udpBind{keylog: kl}
		n.bind.onSend = func(msg []byte, dst netip.AddrPort) {
			capt.mu.Lock()
			defer capt.mu.Unlock()
			p := append([]byte{}, msg...)
			capt.msgs = append(capt.msgs, message{digest: digest(p), ts: int64(len(capt.msgs)), src: n.addr, dst: dst, payload: p})
		}
		n.dev = device.NewDevice(n.tun.TUN(), n.bind, device.NewLogger(device.LogLevelSilent, ""))
		t.Cleanup(n.dev.Close)
		if err := n.dev.IpcSet(fmt.Sprintf("private_key=%x\nlisten_port=0\n", n.priv[:])); err != nil {
			t.Fatal(err)
		}
		if err := n.dev.Up(); err != nil {
			t.Fatal(err)
		}
		n.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), listenPort(t, n.dev))
	}
	for i, n := range ns {
		peer := ns[1-i]
		pub := peer.priv.public()
		cfg := fmt.Sprintf("public_key=%x\nendpoint=%s\nreplace_allowed_ips=true\nallowed_ip=%s/26\n",
			pub[:], peer.addr, netip.PrefixFrom(peer.ip, 26).Masked().Addr())
		if err := n.dev.IpcSet(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// udpPacket builds an IPv4/UDP packet with a payload of n bytes (checksums zero: WireGuard
// does not look at them).
func udpPacket(src, dst netip.Addr, id uint16, n int) []byte {
	p := make([]byte, 28+n)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:4], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:6], id)
	p[8], p[9] = 64, 17
	copy(p[12:16], src.AsSlice())
	copy(p[16:20], dst.AsSlice())
	binary.BigEndian.PutUint16(p[20:22], 40000)
	binary.BigEndian.PutUint16(p[22:24], 9000)
	binary.BigEndian.PutUint16(p[24:26], uint16(8+n))
	for i := range n {
		p[28+i] = byte(id) + byte(i)
	}
	return p
}

func send(t *testing.T, from, to *node, pkt []byte) {
	t.Helper()
	from.tun.Outbound <- pkt
	select {
	case got := <-to.tun.Inbound:
		if !bytes.Equal(got, pkt) {
			t.Fatalf("the peer's TUN got %x, want %x", got, pkt)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("packet not delivered within 5 s")
	}
}

// TestDecryptWireGuardGo runs two real wireguard-go devices, sends packets of many sizes both
// ways, and checks that decrypt, given only the messages and the keylogs, recovers exactly the
// packets sent, each with its message's counter in sending order.
func TestDecryptWireGuardGo(t *testing.T) {
	dir := t.TempDir()
	var capt captured
	ns := pair(t, dir, &capt)
	var sent [2][][]byte
	for i := range 40 {
		from, to := i%2, 1-i%2
		p := udpPacket(ns[from].ip, ns[to].ip, uint16(100+i), 1+i*37)
		send(t, ns[from], ns[to], p)
		sent[from] = append(sent[from], p)
	}
	capt.mu.Lock()
	msgs := append([]message{}, capt.msgs...)
	capt.mu.Unlock()

	var kls []keylogFile
	for i := range 2 {
		kf, err := readKeylog(filepath.Join(dir, fmt.Sprintf("node-%d-wg.keys", i)))
		if err != nil {
			t.Fatal(err)
		}
		if len(kf.ephemerals) == 0 && i == 0 {
			t.Fatalf("%s logged no ephemeral key", kf.name)
		}
		kls = append(kls, kf)
	}
	names := map[key]string{ns[0].priv.public(): "node-0", ns[1].priv.public(): "node-1"}
	recs, err := decrypt(msgs, kls, names)
	if err != nil {
		t.Fatal(err)
	}
	var got [2][][]byte
	var last [2]int64
	last[0], last[1] = -1, -1
	types := map[int]int{}
	for i, r := range recs {
		types[r.Type]++
		if r.Type == msgInitiation && (r.Initiator == "" || r.Responder == "" || r.Initiator == r.Responder) {
			t.Errorf("initiation %d: initiator %q responder %q", i, r.Initiator, r.Responder)
		}
		if r.Type != msgTransport || r.Keepalive {
			continue
		}
		from := 0
		if r.Src == ns[1].addr.String() {
			from = 1
		}
		if int64(*r.Counter) <= last[from] {
			t.Errorf("node-%d: counter %d after %d", from, *r.Counter, last[from])
		}
		last[from] = int64(*r.Counter)
		b, _ := hex.DecodeString(r.Inner)
		got[from] = append(got[from], b)
	}
	if types[msgInitiation] == 0 || types[msgResponse] == 0 {
		t.Errorf("message types %v: want at least one initiation and one response", types)
	}
	for i := range 2 {
		if len(got[i]) != len(sent[i]) {
			t.Fatalf("node-%d: decrypted %d packets, sent %d", i, len(got[i]), len(sent[i]))
		}
		for j := range sent[i] {
			if !bytes.Equal(got[i][j], sent[i][j]) {
				t.Errorf("node-%d packet %d: decrypted %x, sent %x", i, j, got[i][j], sent[i][j])
			}
		}
	}

	// A flipped ciphertext bit, or a keylog without the initiator's ephemeral key, is an error,
	// never a wrong packet.
	for i, m := range msgs {
		if msgType(m.payload) == msgTransport && len(m.payload) > sizeTransport {
			bad := append([]message{}, msgs...)
			p := append([]byte{}, m.payload...)
			p[20] ^= 1
			bad[i].payload, bad[i].digest = p, digest(p)
			if _, err := decrypt(bad, kls, names); err == nil || !strings.Contains(err.Error(), "message authentication failed") {
				t.Errorf("flipped bit: err = %v, want an authentication failure", err)
			}
			break
		}
	}
	noEph := append([]keylogFile{}, kls...)
	for i := range noEph {
		noEph[i].ephemerals = nil
	}
	if _, err := decrypt(append([]message{}, msgs...), noEph, names); err == nil || !strings.Contains(err.Error(), "no keylog holds its ephemeral key") {
		t.Errorf("no ephemeral keys: err = %v", err)
	}
}

func TestUnpad(t *testing.T) {
	p := udpPacket(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1, 5) // 33 bytes
	padded := append(append([]byte{}, p...), make([]byte, 15)...)
	got, err := unpad(padded)
	if err != nil || !bytes.Equal(got, p) {
		t.Errorf("unpad = %x, %v; want %x", got, err, p)
	}
	padded[len(padded)-1] = 1
	if _, err := unpad(padded); err == nil {
		t.Error("non-zero padding accepted")
	}
	if _, err := unpad(p[:20]); err == nil {
		t.Error("a packet longer than the decrypted bytes accepted")
	}
	if got, err := unpad(nil); err != nil || len(got) != 0 {
		t.Errorf("keepalive: %x, %v", got, err)
	}
}
