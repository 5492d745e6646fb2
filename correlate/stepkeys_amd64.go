package correlate

import "unsafe"

// stepKeys is stepKeysGo in assembly (stepkeys_amd64.s): the same tests and writes, with the loop's
// values in registers.
func (m *matcher) stepKeys(stage []sighting, keys []uint64) (n int, fresh bool) {
	return stepKeysAsm(m, unsafe.SliceData(stage), keys)
}

// stepKeysAsm is stepKeysGo for m, the sightings at stage and keys, in stepkeys_amd64.s.
//
//go:noescape
func stepKeysAsm(m *matcher, stage *sighting, keys []uint64) (n int, fresh bool)
