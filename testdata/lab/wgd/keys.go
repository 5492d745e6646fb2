package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/curve25519"
)

// key is a Curve25519 private or public key, written in base64 as wg(8) does.
type key [32]byte

func (k key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

func parseKey(s string) (key, error) {
	var k key
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return k, fmt.Errorf("key %q: %w", s, err)
	}
	if len(b) != len(k) {
		return k, fmt.Errorf("key %q: %d bytes, want 32", s, len(b))
	}
	copy(k[:], b)
	return k, nil
}

func genKey() (key, error) {
	var k key
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		return k, err
	}
	k.clamp()
	return k, nil
}

func (k *key) clamp() {
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
}

func (k key) public() key {
	var p key
	b, err := curve25519.X25519(k[:], curve25519.Basepoint)
	if err != nil {
		panic(err) // only for a low-order result, which the base point cannot give
	}
	copy(p[:], b)
	return p
}

// dh is X25519(priv, pub); an all-zero result (a low-order public key) is an error, as in WireGuard.
func dh(priv, pub key) (key, error) {
	var s key
	b, err := curve25519.X25519(priv[:], pub[:])
	if err != nil {
		return s, err
	}
	copy(s[:], b)
	return s, nil
}

// Keylog line names, as Wireshark's WireGuard dissector reads them (wg.keylog_file).
const (
	klLocalStatic    = "LOCAL_STATIC_PRIVATE_KEY"
	klRemoteStatic   = "REMOTE_STATIC_PUBLIC_KEY"
	klLocalEphemeral = "LOCAL_EPHEMERAL_PRIVATE_KEY"
	klPresharedKey   = "PRESHARED_KEY"
)

// keylogFile is what one node's daemon logged: its static private key, its peers' static public
// keys, and the ephemeral private key of every handshake message it sent.
type keylogFile struct {
	name       string
	static     key
	remotes    []key
	ephemerals []key
}

func readKeylog(name string) (keylogFile, error) {
	kf := keylogFile{name: name}
	f, err := os.Open(name)
	if err != nil {
		return kf, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	haveStatic := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			return kf, fmt.Errorf("%s: line %d: want NAME = KEY", kf.name, n)
		}
		k, err := parseKey(strings.TrimSpace(val))
		if err != nil {
			return kf, fmt.Errorf("%s: line %d: %w", kf.name, n, err)
		}
		switch strings.TrimSpace(name) {
		case klLocalStatic:
			if haveStatic && k != kf.static {
				return kf, fmt.Errorf("%s: line %d: a second static key", kf.name, n)
			}
			kf.static, haveStatic = k, true
		case klRemoteStatic:
			kf.remotes = append(kf.remotes, k)
		case klLocalEphemeral:
			kf.ephemerals = append(kf.ephemerals, k)
		case klPresharedKey:
			var zero key
			if k != zero {
				return kf, fmt.Errorf("%s: line %d: a preshared key: Calico uses none and neither does this tool", kf.name, n)
			}
		default:
			return kf, fmt.Errorf("%s: line %d: unknown key type %q", kf.name, n, name)
		}
	}
	if err := sc.Err(); err != nil {
		return kf, fmt.Errorf("%s: %w", kf.name, err)
	}
	if !haveStatic {
		return kf, fmt.Errorf("%s: no %s line", kf.name, klLocalStatic)
	}
	return kf, nil
}
