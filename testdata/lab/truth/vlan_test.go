package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestVLANTagsWireshark checks vlan-ipip's 802.1Q tags with Wireshark, not with the truth computer's
// own reading: every frame of a VLAN sub-interface's parent (node-a's and router-1's eth0) carries the
// logged VLAN ID, no frame of the sub-interface (node-a's eth0.100) carries a tag, and in each cooked v1
// -i any capture as many frames carry a tag with that ID as truth.json's cooked_v1 counts (the
// parent's frames: cooked v2 records them untagged, which tshark must confirm too).
func TestVLANTagsWireshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed: vlan-ipip's tags are not cross-checked with Wireshark")
	}
	dir := scenarioDir(t, "vlan-ipip")
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	// vlanIDs returns each frame's VLAN ID field as tshark prints it ("" for an untagged frame).
	vlanIDs := func(file string) []string {
		out, err := exec.Command("tshark", "-n", "-r", filepath.Join(dir, file), "-T", "fields", "-e", "vlan.id").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}
	if len(tr.VLANs) != 2 {
		t.Fatalf("truth.json lists %d VLAN sub-interfaces, want node-a's and router-1's", len(tr.VLANs))
	}
	id := strconv.Itoa(tr.VLANs[0].ID)
	parent := map[string]int{}
	for _, v := range tr.VLANs {
		parent[v.Node+"/"+v.Parent] = v.ID
	}
	checked := 0
	for _, p := range tr.Points {
		want := "" // untagged; also cooked v2 (-i any), which does not record the tag
		if p.Role != "any" && p.VLAN != parent[p.Node+"/"+p.Iface] {
			t.Errorf("%s/%s: truth.json gives VLAN %d, lab.log %d", p.Node, p.Iface, p.VLAN, parent[p.Node+"/"+p.Iface])
		}
		if p.VLAN != 0 {
			want = strconv.Itoa(p.VLAN)
		}
		ids := vlanIDs(p.File)
		if len(ids) != p.Packets {
			t.Errorf("%s: tshark reads %d frames, truth %d", p.File, len(ids), p.Packets)
		}
		for i, got := range ids {
			if got != want {
				t.Errorf("%s frame %d: VLAN ID %q, want %q", p.File, i+1, got, want)
				break
			}
		}
		if want != "" {
			checked++
		}
	}
	if checked != 2 {
		t.Errorf("%d tagged captures checked, want node-a's and router-1's eth0", checked)
	}
	if len(tr.CookedV1) != 2 {
		t.Fatalf("truth.json lists %d cooked v1 captures, want two", len(tr.CookedV1))
	}
	for _, c := range tr.CookedV1 {
		tagged := 0
		for _, got := range vlanIDs(c.File) {
			switch got {
			case id:
				tagged++
			case "":
			default:
				t.Errorf("%s: a frame of VLAN %s", c.File, got)
			}
		}
		if tagged != c.Tagged {
			t.Errorf("%s: tshark reads %d frames of VLAN %s, truth %d", c.File, tagged, id, c.Tagged)
		}
		if c.Node == "node-a" && tagged == 0 {
			t.Errorf("%s: no tagged frame: node-a's eth0 carries VLAN %s", c.File, id)
		}
	}
}
