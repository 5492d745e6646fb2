package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedDecryptions recomputes every committed scenario's wg-decrypted.jsonl from its
// captures, lab.log and keylogs: the file the truth computer reads must be what they give.
func TestCommittedDecryptions(t *testing.T) {
	var files []string
	for _, d := range []string{"scenarios", "scenarios-pending"} {
		m, _ := filepath.Glob(filepath.Join("..", d, "*", "wg-decrypted.jsonl"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no committed wg-decrypted.jsonl")
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := decryptDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := writeRecords(&got, recs); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s is stale: `wgd decrypt -dir %s` gives another file (%d bytes, committed %d)", f, dir, got.Len(), len(want))
			}
			n := 0
			for _, r := range recs {
				if r.Type == msgTransport && !r.Keepalive {
					n++
				}
			}
			if n == 0 && filepath.Base(dir) != "wireguard-blocked" {
				t.Error("no transport message carried a packet")
			}
		})
	}
}
