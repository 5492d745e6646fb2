package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var wgScenarios = []string{"healthy-wireguard", "wireguard-underlay-loss", "wireguard-blocked", "wireguard-mtu-blackhole",
	"wireguard-fragmented", "wireguard-bypass"}

// TestWireGuardTruth pins what each WireGuard scenario is for, beyond its anomalies: the
// encrypted path, handshakes, sessions and their counters, keepalives, and the bypassing pod.
func TestWireGuardTruth(t *testing.T) {
	const caliA, caliB, caliC = "node-a/cali5e1c4d6c68c", "node-b/cali2f5353dd8c5", "node-a/cali3754a2f57f6"
	encAB := []string{caliA, "node-a/wireguard.cali", "node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0", "node-b/wireguard.cali", caliB}
	for _, sc := range wgScenarios {
		t.Run(sc, func(t *testing.T) {
			tr, err := compute(scenarioDir(t, sc))
			if err != nil {
				t.Fatal(err)
			}
			w := tr.WireGuard
			if w == nil || w.Iface != "wireguard.cali" || w.Port != 51820 || w.MTU != 1440 || len(w.Nodes) != 2 {
				t.Fatalf("wireguard section %+v", w)
			}
			for _, f := range tr.Flows {
				if f.Src == "10.244.1.5" && !slices.Equal(f.Path, encAB) {
					t.Errorf("flow %s %s:%d: path %v, want %v", f.Proto, f.Src, f.Sport, f.Path, encAB)
				}
			}
			answered := 0
			for _, h := range w.Handshakes {
				if h.Initiator != "node-a" || h.Responder != "node-b" {
					t.Errorf("handshake %+v: want node-a → node-b (node-a's pod speaks first)", h)
				}
				if h.Response != "" {
					answered++
				}
			}
			transport := map[string]int{} // by from
			for _, m := range w.Transport {
				transport[m.From]++
				if !m.Keepalive && (m.Inner == nil || m.Len-32 < m.Inner.Len || m.Len-32-m.Inner.Len > 15) {
					t.Errorf("transport %+v: inner packet does not fit", m)
				}
			}
			for _, s := range w.Sessions {
				if s.Handshake == "" || s.Sent-s.Received != len(s.LostCounters) || s.Reordered != 0 || s.Replayed != 0 {
					t.Errorf("session %+v", s)
				}
			}
			switch sc {
			case "healthy-wireguard":
				keepalives := 0
				for _, s := range w.Sessions {
					keepalives += s.Keepalives
					if s.Sent == 0 || s.Sent != s.Received || s.LastCounter-s.FirstCounter+1 != uint64(s.Sent) {
						t.Errorf("session %+v: want every counter sent and received", s)
					}
				}
				if len(w.Handshakes) != 1 || answered != 1 || len(w.Sessions) != 2 || keepalives != 1 {
					t.Errorf("%d handshakes (%d answered), %d sessions, %d keepalives; want 1, 1, 2 and node-a's passive keepalive",
						len(w.Handshakes), answered, len(w.Sessions), keepalives)
				}
			case "wireguard-underlay-loss":
				for _, s := range w.Sessions {
					if len(s.LostCounters) == 0 || len(s.Lost) != 1 || !strings.HasPrefix(s.Lost[0].Segment, "router-1/") {
						t.Errorf("session %+v: want transport messages lost at router-1", s)
					}
				}
			case "wireguard-blocked":
				if len(w.Handshakes) < 2 || answered != 0 || len(w.Sessions) != 0 || len(w.Transport) != 0 {
					t.Errorf("%d handshakes (%d answered), %d sessions, %d transport messages; want a retried initiation, nothing else",
						len(w.Handshakes), answered, len(w.Sessions), len(w.Transport))
				}
			case "wireguard-mtu-blackhole":
				for _, m := range w.Transport {
					if big := m.Len+28 > 1400; (m.LostAt != "") != (big && m.From == "node-b") {
						t.Errorf("transport %+v: want exactly node-b's messages over 1400 bytes lost", m)
					}
				}
			case "wireguard-fragmented":
				n := 0
				for _, m := range w.Transport {
					big := m.Len+28 > 1400
					if big && m.From == "node-b" {
						n++
					}
					if want := big && m.From == "node-b"; want != slices.Equal(m.Fragmented, []string{"router-1/eth0", "node-a/eth0"}) || m.LostAt != "" {
						t.Errorf("transport %+v: want node-b's messages over 1400 bytes in fragments at router-1/eth0 and node-a/eth0, and none lost", m)
					}
				}
				if n == 0 {
					t.Error("no message over router-1's MTU")
				}
			case "wireguard-bypass":
				clear := []string{caliC, "node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0", caliB}
				n := 0
				for _, f := range tr.Flows {
					switch {
					case f.Src == "10.244.1.9":
						n++
						if !slices.Equal(f.Path, clear) || f.Sent != f.Delivered {
							t.Errorf("pod-c's flow %s %d: path %v, delivered %d of %d; want %v", f.Proto, f.Sport, f.Path, f.Delivered, f.Sent, clear)
						}
					case f.Dst == "10.244.1.9":
						want := []string{caliB, "node-b/wireguard.cali", "node-b/eth0", "router-1/eth1", "router-1/eth0", "node-a/eth0", "node-a/wireguard.cali", caliC}
						if !slices.Equal(f.Path, want) {
							t.Errorf("answer to pod-c %s: path %v, want %v (encrypted)", f.Proto, f.Path, want)
						}
					}
				}
				if n != 3 {
					t.Errorf("%d flows from pod-c, want 3", n)
				}
			}
		})
	}
}

// TestWireGuardDecryptedChecked breaks wg-decrypted.jsonl the ways that would make a truth wrong
// and expects the truth computer to refuse it: a message missing, a header that differs from the
// captured one, an inner packet no pod sent.
func TestWireGuardDecryptedChecked(t *testing.T) {
	src := scenarioDir(t, "healthy-wireguard")
	edit := func(match func(r map[string]any) bool, change func(r map[string]any)) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			name := filepath.Join(dir, wgDecrypted)
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			done := false
			for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				var r map[string]any
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatal(err)
				}
				if !done && match(r) {
					done = true
					if change == nil {
						continue
					}
					change(r)
					line, _ = json.Marshal(r)
				}
				out.Write(line)
				out.WriteByte('\n')
			}
			if !done {
				t.Fatal("no record to change")
			}
			if err := os.WriteFile(name, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	isPing := func(r map[string]any) bool {
		in, _ := r["inner"].(string)
		return len(in) > 20 && in[18:20] == "01" // IPv4 protocol ICMP
	}
	cases := []struct {
		name   string
		mutate func(*testing.T, string)
		want   string
	}{
		{"untouched", func(*testing.T, string) {}, ""},
		{"missing", edit(isPing, nil), "is not in wg-decrypted.jsonl"},
		{"counter", edit(isPing, func(r map[string]any) { r["counter"] = r["counter"].(float64) + 100 }), "receiver or counter differ"},
		{"inner", edit(isPing, func(r map[string]any) {
			in := r["inner"].(string)
			r["inner"] = in[:8] + "abcd" + in[12:] // another IP ID
		}), "was never seen leaving a pod"},
		{"no file", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, wgDecrypted)) }, "wgd decrypt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			c.mutate(t, dir)
			_, err := compute(dir)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestWireGuardTshark decrypts every scenario's eth0 captures with Wireshark, given the keylogs
// the daemons wrote, and checks that it finds what wg-decrypted.jsonl says: for each transport
// message (receiver index, counter) the inner packet's IP ID and length, or a keepalive; and the
// initiator's static key in each initiation. wgd's decryption is thereby checked by an
// implementation that shares nothing with it.
func TestWireGuardTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed: wg-decrypted.jsonl is not cross-checked with Wireshark")
	}
	for _, sc := range wgScenarios {
		t.Run(sc, func(t *testing.T) {
			dir := scenarioDir(t, sc)
			var keys []byte
			kls, _ := filepath.Glob(filepath.Join(dir, "*-wg.keys"))
			for _, k := range kls {
				b, err := os.ReadFile(k)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, b...)
			}
			keylog := filepath.Join(t.TempDir(), "wg.keys")
			if err := os.WriteFile(keylog, keys, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := computeLab(dir)
			if err != nil {
				t.Fatal(err)
			}
			pub := map[string]string{}
			for _, n := range l.wg.t.Nodes {
				pub[n.Node] = n.PublicKey
			}
			type tsh struct{ inner, static string }
			seen := map[string]tsh{} // "receiver/counter" or "init/sender"
			for _, f := range []string{"node-a-eth0.pcap", "node-b-eth0.pcap"} {
				out, err := exec.Command("tshark", "-n", "-r", filepath.Join(dir, f), "-o", "wg.keylog_file:"+keylog,
					"-Y", "wg", "-T", "fields", "-E", "separator=|",
					"-e", "wg.type", "-e", "wg.sender", "-e", "wg.receiver", "-e", "wg.counter",
					"-e", "ip.id", "-e", "ip.len", "-e", "wg.keepalive", "-e", "wg.static").Output()
				if err != nil {
					t.Fatalf("tshark %s: %v", f, err)
				}
				sc := bufio.NewScanner(bytes.NewReader(out))
				for sc.Scan() {
					fl := strings.Split(sc.Text(), "|")
					if len(fl) != 8 {
						t.Fatalf("tshark line %q", sc.Text())
					}
					ids, lens := strings.Split(fl[4], ","), strings.Split(fl[5], ",")
					switch fl[0] {
					case "1":
						seen["init/"+fl[1]] = tsh{static: fl[7]}
					case "4":
						in := "keepalive"
						if fl[6] == "" {
							if len(ids) != 2 || len(lens) != 2 {
								t.Errorf("%s: message %s/%s: Wireshark decrypted no inner packet (ip.id %s)", f, fl[2], fl[3], fl[4])
								continue
							}
							id, _ := strconv.ParseUint(strings.TrimPrefix(ids[1], "0x"), 16, 16)
							in = fmt.Sprintf("id %d len %s", id, lens[1])
						}
						seen[fl[2]+"/"+fl[3]] = tsh{inner: in}
					}
				}
			}
			for d, r := range l.wg.dec {
				switch r.Type {
				case 1:
					got, ok := seen["init/"+r.Sender]
					if !ok || got.static != pub[r.Initiator] {
						t.Errorf("initiation %s: Wireshark found static key %q, want %s's %s", r.Sender, got.static, r.Initiator, pub[r.Initiator])
					}
				case 4:
					want := "keepalive"
					if !r.Keepalive {
						in := wgInner(r.Inner)
						want = fmt.Sprintf("id %d len %d", in.IPID, in.Len)
					}
					if got := seen[r.Receiver+"/"+strconv.FormatUint(*r.Counter, 10)]; got.inner != want {
						t.Errorf("message %s (%s/%d): Wireshark decrypted %q, wg-decrypted.jsonl says %q", d, r.Receiver, *r.Counter, got.inner, want)
					}
				}
			}
		})
	}
}
