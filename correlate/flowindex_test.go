package correlate

import "testing"

// TestFlowIndex puts keys that differ in one field each (ports, addresses, protocol, family) into
// the flows' index by root key, through several growths, and finds each one's flow again, and none
// for a key never put.
func TestFlowIndex(t *testing.T) {
	var x flowIndex
	if _, ok := x.get(flowKey{a: 1}); ok {
		t.Fatal("an empty index found a flow")
	}
	var keys []flowKey
	for i := range 3000 {
		k := flowKey{proto: 6, a: 0x0a000001, b: 0x0a000102, ap: uint16(30000 + i/4), bp: 80}
		switch i % 4 {
		case 1:
			k.v6 = true
		case 2:
			k.proto = 17
		case 3:
			k.b ^= 1 << 20
		}
		keys = append(keys, k)
	}
	for fi, k := range keys {
		if _, ok := x.get(k); ok {
			t.Fatalf("key %d found before it was put", fi)
		}
		if got := x.put(k); got != int32(fi) {
			t.Fatalf("key %d numbered %d", fi, got)
		}
	}
	if x.len() != len(keys) || 2*x.len() > len(x.slots) {
		t.Fatalf("%d keys in %d slots, want %d in at least twice as many", x.len(), len(x.slots), len(keys))
	}
	for fi, k := range keys {
		if got, ok := x.get(k); !ok || got != int32(fi) {
			t.Fatalf("key %d: flow %d (%v), want %d", fi, got, ok, fi)
		}
	}
	if _, ok := x.get(flowKey{proto: 6, a: 0x0a000001, b: 0x0a000102, ap: 29999, bp: 80}); ok {
		t.Fatal("a key never put found a flow")
	}
}
