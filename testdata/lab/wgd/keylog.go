package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
)

// WireGuard message types and sizes (the whitepaper, section 5.4).
const (
	msgInitiation = 1
	msgResponse   = 2
	msgCookie     = 3
	msgTransport  = 4

	sizeInitiation = 148
	sizeResponse   = 92
	sizeCookie     = 64
	sizeTransport  = 32 // header (16) and tag (16) of an empty (keepalive) transport message
)

// recorder stands in for crypto/rand.Reader in the daemon. It passes the real random bytes
// through and remembers the latest 32-byte reads: wireguard-go draws each handshake's ephemeral
// private key with one such read (newPrivateKey), and keeps it to itself. When a handshake message
// leaves, the keylog finds the candidate whose public key is the message's ephemeral, so only a
// verified key is ever logged.
type recorder struct {
	mu   sync.Mutex
	src  io.Reader
	ring [64]key
	n    int
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := io.ReadFull(r.src, p)
	if err == nil && len(p) == len(key{}) {
		r.mu.Lock()
		copy(r.ring[r.n%len(r.ring)][:], p)
		r.n++
		r.mu.Unlock()
	}
	return n, err
}

// find returns the recorded private key whose public key is pub.
func (r *recorder) find(pub key) (key, bool) {
	r.mu.Lock()
	cands := r.ring
	n := min(r.n, len(r.ring))
	r.mu.Unlock()
	for i := range n {
		k := cands[i]
		k.clamp()
		if k.public() == pub {
			return k, true
		}
	}
	return key{}, false
}

// keylog writes a Wireshark WireGuard keylog (wg.keylog_file): the node's static private key, its
// peers' static public keys, then one LOCAL_EPHEMERAL_PRIVATE_KEY line per handshake message the
// node sends. With it, Wireshark and `wgd decrypt` can decrypt every session the node initiated or
// answered.
type keylog struct {
	mu      sync.Mutex
	f       *os.File
	rec     *recorder
	missing int
	logged  int
}

func newKeylog(name string, static key, remotes []key, rec *recorder) (*keylog, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	k := &keylog{f: f, rec: rec}
	if err := k.line(klLocalStatic, static); err != nil {
		return nil, err
	}
	for _, r := range remotes {
		if err := k.line(klRemoteStatic, r); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (k *keylog) line(name string, v key) error {
	_, err := fmt.Fprintf(k.f, "%s = %s\n", name, v)
	return err
}

// sent looks at a message the node is about to send and logs the ephemeral private key of a
// handshake initiation or response. It reports false when the key could not be found.
func (k *keylog) sent(msg []byte) bool {
	if len(msg) < 4 {
		return true
	}
	var eph key
	switch {
	case msg[0] == msgInitiation && len(msg) == sizeInitiation:
		copy(eph[:], msg[8:40])
	case msg[0] == msgResponse && len(msg) == sizeResponse:
		copy(eph[:], msg[12:44])
	default:
		return true
	}
	priv, ok := k.rec.find(eph)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !ok {
		k.missing++
		return false
	}
	if err := k.line(klLocalEphemeral, priv); err != nil {
		k.missing++
		return false
	}
	k.logged++
	return true
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
