package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/cluster"
)

// labDirs are the committed scenarios calipath follows.
func labDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../scenarios/*/lab.log")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no committed scenarios: %v", err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// Each scenario's k8s/ is what k8smeta writes from its lab.log, and nothing else: rerun
// `go run ./testdata/lab/k8smeta testdata/lab/scenarios/*/` after re-capturing.
func TestCommittedUpToDate(t *testing.T) {
	for _, dir := range labDirs(t) {
		l, err := readLab(filepath.Join(dir, "lab.log"))
		if err != nil {
			t.Fatal(err)
		}
		files, err := render(l)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		ents, err := os.ReadDir(filepath.Join(dir, "k8s"))
		if err != nil {
			t.Errorf("%s: %v (run go run ./testdata/lab/k8smeta on it)", dir, err)
			continue
		}
		if len(ents) != len(files) {
			t.Errorf("%s/k8s: %d files, k8smeta writes %d", dir, len(ents), len(files))
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, "k8s", name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/k8s/%s is stale (%v): rerun go run ./testdata/lab/k8smeta %s", dir, name, err, dir)
			}
		}
	}
}

// calipath reads every scenario's metadata without a problem, and Calico's rule for interface names
// gives the names lab.sh gave the pods' interfaces (the endpoints carry lab.sh's).
func TestReadByCalipath(t *testing.T) {
	for _, dir := range labDirs(t) {
		m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
		if err != nil {
			t.Fatal(err)
		}
		probs = append(probs, m.CheckIfaces("")...)
		for _, p := range probs {
			t.Errorf("%s: %s", dir, p)
		}
		l, _ := readLab(filepath.Join(dir, "lab.log"))
		if len(m.Pods) != len(l.pods)+len(l.nodes) || len(m.Nodes) != len(l.nodes) || len(m.Pools) != 1 ||
			len(m.WorkloadEndpoints) != len(l.pods) || len(m.Services) != len(m.EndpointSlices) {
			t.Errorf("%s: %d pods, %d nodes, %d pools, %d endpoints, %d services, %d slices", dir, len(m.Pods), len(m.Nodes),
				len(m.Pools), len(m.WorkloadEndpoints), len(m.Services), len(m.EndpointSlices))
		}
	}
}
