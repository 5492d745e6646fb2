//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
)

// up runs one node's WireGuard device until SIGINT or SIGTERM, configured as Felix configures
// wireguard.cali: a listen port, a firewall mark on the UDP socket, one peer per remote node with
// its node IP as endpoint and its blocks as allowed IPs, no preshared key, and no persistent
// keepalive unless -keepalive says otherwise. The TUN device is created here (wireguard-go turns
// on its virtio-net header, so TCP goes through it as GSO super-packets, as through the kernel
// device); the lab script gives it its address and routes, and sets it up.
func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dev := fs.String("dev", "wireguard.cali", "TUN device to create")
	mtu := fs.Int("mtu", 1440, "device MTU")
	port := fs.Int("port", 51820, "UDP listen port")
	fwmark := fs.String("fwmark", "0x100000", "firewall mark of the UDP socket (0: none)")
	keyFile := fs.String("key", "", "file holding the node's private key (base64)")
	peer := fs.String("peer", "", "the peer's public key (base64)")
	ep := fs.String("endpoint", "", "the peer's node IP:port")
	allowed := fs.String("allowed", "", "the peer's allowed IPs, comma-separated CIDRs")
	keepalive := fs.Int("keepalive", 0, "persistent keepalive interval in seconds (0: off, Felix's default)")
	keylogName := fs.String("keylog", "", "write a Wireshark WireGuard keylog here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	priv, err := parseKey(string(b))
	if err != nil {
		return fmt.Errorf("-key: %w", err)
	}
	pub, err := parseKey(*peer)
	if err != nil {
		return fmt.Errorf("-peer: %w", err)
	}
	endpoint, err := netip.ParseAddrPort(*ep)
	if err != nil {
		return fmt.Errorf("-endpoint: %w", err)
	}
	mark, err := strconv.ParseUint(*fwmark, 0, 32)
	if err != nil {
		return fmt.Errorf("-fwmark: %w", err)
	}
	var prefixes []netip.Prefix
	for _, s := range strings.Split(*allowed, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-allowed: %w", err)
		}
		prefixes = append(prefixes, p)
	}
	if *keylogName == "" {
		return errors.New("-keylog is required: without it no capture of this node can be decrypted")
	}

	// Before wireguard-go draws any key: see recorder.
	rec := &recorder{src: rand.Reader}
	rand.Reader = rec
	kl, err := newKeylog(*keylogName, priv, []key{pub}, rec)
	if err != nil {
		return err
	}
	bind := &udpBind{keylog: kl}

	t, err := tun.CreateTUN(*dev, *mtu)
	if err != nil {
		return fmt.Errorf("create %s: %w", *dev, err)
	}
	// wireguard-go's own log (handshakes sent and received, keepalives), on stderr with the rest.
	logger := &device.Logger{Verbosef: log.Printf, Errorf: func(f string, a ...any) { log.Printf("error: "+f, a...) }}
	d := device.NewDevice(t, bind, logger)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "private_key=%x\nlisten_port=%d\nfwmark=%d\nreplace_peers=true\n", priv[:], *port, mark)
	fmt.Fprintf(&cfg, "public_key=%x\nendpoint=%s\npersistent_keepalive_interval=%d\nreplace_allowed_ips=true\n", pub[:], endpoint, *keepalive)
	for _, p := range prefixes {
		fmt.Fprintf(&cfg, "allowed_ip=%s\n", p)
	}
	if err := d.IpcSet(cfg.String()); err != nil {
		return fmt.Errorf("configure %s: %w", *dev, err)
	}
	log.Printf("attached to %s, mtu %d, port %d, fwmark %#x, public key %s, peer %s at %s allowed %s",
		*dev, *mtu, *port, mark, priv.public(), pub, endpoint, *allowed)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case <-d.Wait():
		return errors.New("device closed")
	}
	summary(d, bind, kl)
	d.Close()
	return nil
}

// summary logs the daemon's counters: messages sent and received by type, and the peer's
// counters as wireguard-go reports them (`wg show` would print the same).
func summary(d *device.Device, b *udpBind, kl *keylog) {
	names := [5]string{"other", "initiation", "response", "cookie", "transport"}
	var s strings.Builder
	for i, n := range names {
		fmt.Fprintf(&s, " sent_%s=%d", n, b.sent[i].Load())
	}
	for i, n := range names {
		fmt.Fprintf(&s, " recv_%s=%d", n, b.recv[i].Load())
	}
	kl.mu.Lock()
	logged, missing := kl.logged, kl.missing
	kl.mu.Unlock()
	log.Printf("summary%s send_errors=%d ephemeral_keys_logged=%d ephemeral_keys_missing=%d",
		s.String(), b.sendErrors.Load(), logged, missing)
	get, err := d.IpcGet()
	if err != nil {
		log.Printf("summary ipc get: %v", err)
		return
	}
	var peer []string
	sc := bufio.NewScanner(strings.NewReader(get))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "rx_bytes", "tx_bytes", "last_handshake_time_sec":
			peer = append(peer, k+"="+v)
		}
	}
	log.Printf("summary peer %s", strings.Join(peer, " "))
}
