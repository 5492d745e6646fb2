package correlate

import (
	"reflect"
	"testing"
)

// pathKey.equal is ==: keys that differ in any one field differ, a key equals its copy. The fields are
// counted, so that one added to pathKey or pathEnds without equal comparing it fails here.
func TestPathKeyEqual(t *testing.T) {
	if n, m := reflect.TypeFor[pathKey]().NumField(), reflect.TypeFor[pathEnds]().NumField(); n != 4 || m != 6 {
		t.Fatalf("pathKey has %d fields, pathEnds %d: pathKey.equal compares 4 and 6", n, m)
	}
	base := pathKey{ends: pathEnds{src: 1, dst: 2, srcPod: 3, dstPod: 4, local: 1, behindTunnel: true}, v6: true, src: 7, dst: 8}
	changes := []func(k *pathKey){
		func(k *pathKey) { k.ends.src++ },
		func(k *pathKey) { k.ends.dst++ },
		func(k *pathKey) { k.ends.srcPod++ },
		func(k *pathKey) { k.ends.dstPod++ },
		func(k *pathKey) { k.ends.local++ },
		func(k *pathKey) { k.ends.behindTunnel = false },
		func(k *pathKey) { k.v6 = false },
		func(k *pathKey) { k.src++ },
		func(k *pathKey) { k.dst++ },
	}
	same := base
	if !base.equal(&same) {
		t.Fatal("a key differs from its copy")
	}
	for i, change := range changes {
		k := base
		change(&k)
		if k == base || base.equal(&k) || k.equal(&base) {
			t.Errorf("change %d: %+v and %+v compare equal (== says %v)", i, base, k, k == base)
		}
	}
}
