package decode

import (
	"reflect"
	"testing"
)

// TestRecordSet checks that Record.set overwrites every field, as the composite literal it replaces did.
func TestRecordSet(t *testing.T) {
	if n := reflect.TypeOf(Record{}).NumField(); n != 8 {
		t.Fatalf("Record has %d fields: Record.set must assign every one of them (then update this test)", n)
	}
	data := []byte{1, 2, 3}
	rec := Record{Frame: 9, Ts: -1, CapLen: 99, OrigLen: 98, LinkType: LinkSLL2, Iface: 7, Data: []byte{9}}
	rec.set(3, 1700000000123456789, true, 3, 60, LinkEthernet, 2, data)
	want := Record{Frame: 3, Ts: 1700000000123456789, FracOver: true, CapLen: 3, OrigLen: 60, LinkType: LinkEthernet, Iface: 2, Data: data}
	if !reflect.DeepEqual(rec, want) || &rec.Data[0] != &data[0] {
		t.Errorf("set: %+v, want %+v", rec, want)
	}
	rec.set(0, 0, false, 0, 0, 0, 0, nil)
	if !reflect.DeepEqual(rec, Record{}) {
		t.Errorf("set to zero: %+v", rec)
	}
}
