package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// runHash hashes every file a run writes (names and bytes, in order) and its truth as JSON.
func runHash(t *testing.T, c Config) string {
	t.Helper()
	res := generate(t, c)
	h := sha256.New()
	for _, f := range res.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	j, err := json.Marshal(res.Truth)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(j)
	return hex.EncodeToString(h.Sum(nil))
}

// TestDefaultMixPinned pins the bytes of the default mix (captures and truth) as they were before the
// other mixes existed: adding a mix must not change what existing commands write.
func TestDefaultMixPinned(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"ipip", func(c *Config) {}, "61802d9e31d37014c69b472d51c63a52fee63e7e2794d84f4da1790ace8ee673"},
		{"vxlan-knobs", func(c *Config) {
			c.Mode, c.LossPerHop, c.DupRate, c.RetransRate, c.DNAT, c.IPID0DF = ModeVXLAN, 0.02, 0.05, 0.05, 0.5, 0.3
			c.Nodes, c.PodsPerNode = 3, 2
		}, "8daa98a7602cfe4064201f900c0841da555c68de55396bb4bd00e681fc0ba917"},
		{"bgp-pcapng-ns", func(c *Config) {
			c.Mode, c.Format, c.Nanosecond, c.PartialCsum, c.Identical = ModeBGP, FormatPcapNG, true, true, 2
		}, "fcaa876446b8d4ee3df35486debff3e53c865e42700950bd1945a6c9cb795759"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(t)
			tc.set(&c)
			if got := runHash(t, c); got != tc.want {
				t.Errorf("default mix wrote other bytes: hash %s, want %s", got, tc.want)
			}
		})
	}
}
