//go:build !amd64

package correlate

// stepKeys is stepKeysGo where there is no assembly for it (see stepkeys_amd64.s).
func (m *matcher) stepKeys(stage []sighting, keys []uint64) (n int, fresh bool) {
	return m.stepKeysGo(stage, keys)
}
