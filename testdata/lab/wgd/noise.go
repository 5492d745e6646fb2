package main

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/blake2s"
	"golang.org/x/crypto/chacha20poly1305"
)

// The WireGuard handshake (Noise_IKpsk2, the whitepaper's section 5.4), replayed from the
// initiator's side: with the initiator's static and ephemeral private keys and the responder's
// static public key, the captured initiation and response give the session's two transport keys.
// Every step that decrypts something checks its AEAD tag, so a wrong key cannot go unnoticed.

var (
	construction = []byte("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
	identifier   = []byte("WireGuard v1 zx2c4 Jason@zx2c4.com")
)

func blake(parts ...[]byte) key {
	h, _ := blake2s.New256(nil)
	for _, p := range parts {
		h.Write(p)
	}
	var k key
	h.Sum(k[:0])
	return k
}

func hmacBlake(k []byte, parts ...[]byte) key {
	m := hmac.New(func() hash.Hash { h, _ := blake2s.New256(nil); return h }, k)
	for _, p := range parts {
		m.Write(p)
	}
	var out key
	m.Sum(out[:0])
	return out
}

// kdf is HKDF with HMAC-BLAKE2s: τ0 = HMAC(c, input), τ1 = HMAC(τ0, 1), τi = HMAC(τ0, τi−1 ‖ i).
func kdf(c key, input []byte, n int) []key {
	t0 := hmacBlake(c[:], input)
	out := make([]key, n)
	prev := []byte{}
	for i := range n {
		out[i] = hmacBlake(t0[:], prev, []byte{byte(i + 1)})
		prev = out[i][:]
	}
	return out
}

func aeadOpen(k key, counter uint64, ct, ad []byte) ([]byte, error) {
	a, err := chacha20poly1305.New(k[:])
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	binary.LittleEndian.PutUint64(nonce[4:], counter)
	return a.Open(nil, nonce[:], ct, ad)
}

// initiation is the initiator's handshake state after its initiation message.
type initiation struct {
	c, h       key
	static     key // initiator's static private key
	ephemeral  key // initiator's ephemeral private key
	staticPub  key
	respPub    key // responder's static public key
	sender     uint32
	timestamp  []byte // TAI64N, decrypted
	keylogName string
}

// consumeInitiation replays an initiation message (148 bytes) with the initiator's keys.
func consumeInitiation(msg []byte, static, ephemeral, respPub key) (*initiation, error) {
	if len(msg) != sizeInitiation || msg[0] != msgInitiation {
		return nil, errors.New("not a handshake initiation")
	}
	var ePub key
	copy(ePub[:], msg[8:40])
	if ephemeral.public() != ePub {
		return nil, errors.New("ephemeral private key does not match the message")
	}
	c := blake(construction)
	h := blake(c[:], identifier)
	h = blake(h[:], respPub[:])
	c = kdf(c, ePub[:], 1)[0]
	h = blake(h[:], ePub[:])
	ss, err := dh(ephemeral, respPub)
	if err != nil {
		return nil, err
	}
	ck := kdf(c, ss[:], 2)
	c = ck[0]
	encStatic := msg[40:88]
	st, err := aeadOpen(ck[1], 0, encStatic, h[:])
	if err != nil {
		return nil, fmt.Errorf("static key: %w", err)
	}
	if !hmac.Equal(st, func() []byte { p := static.public(); return p[:] }()) {
		return nil, errors.New("the initiation carries another static key")
	}
	h = blake(h[:], encStatic)
	ss, err = dh(static, respPub)
	if err != nil {
		return nil, err
	}
	ck = kdf(c, ss[:], 2)
	c = ck[0]
	encTS := msg[88:116]
	ts, err := aeadOpen(ck[1], 0, encTS, h[:])
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	h = blake(h[:], encTS)
	return &initiation{c: c, h: h, static: static, ephemeral: ephemeral, staticPub: static.public(),
		respPub: respPub, sender: le32(msg[4:8]), timestamp: ts}, nil
}

// consumeResponse replays the response (92 bytes) to an initiation and returns the initiator's
// sending key (for messages to the responder) and receiving key (for messages from it).
func consumeResponse(in *initiation, msg []byte) (send, recv key, err error) {
	if len(msg) != sizeResponse || msg[0] != msgResponse {
		return send, recv, errors.New("not a handshake response")
	}
	if le32(msg[8:12]) != in.sender {
		return send, recv, errors.New("response to another initiation")
	}
	var ePub key
	copy(ePub[:], msg[12:44])
	c := kdf(in.c, ePub[:], 1)[0]
	h := blake(in.h[:], ePub[:])
	ss, err := dh(in.ephemeral, ePub)
	if err != nil {
		return send, recv, err
	}
	c = kdf(c, ss[:], 1)[0]
	ss, err = dh(in.static, ePub)
	if err != nil {
		return send, recv, err
	}
	c = kdf(c, ss[:], 1)[0]
	var psk key // Calico configures no preshared key
	ctk := kdf(c, psk[:], 3)
	c = ctk[0]
	h = blake(h[:], ctk[1][:])
	if _, err := aeadOpen(ctk[2], 0, msg[44:60], h[:]); err != nil {
		return send, recv, fmt.Errorf("empty payload: %w", err)
	}
	t := kdf(c, nil, 2)
	return t[0], t[1], nil
}
