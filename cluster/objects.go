package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// The "objects" format: Kubernetes and Calico objects as kubectl and calicoctl print them, JSON or
// YAML; one object, a List of them (`kubectl get pods,services -A -o yaml`, `calicoctl get ippools
// -o yaml`), several YAML documents separated by "---", or several JSON values one after another.
// Each object goes to the row of the kinds table for its API group and kind.

// kind is one object kind calipath reads.
type kind struct {
	group string // the API group: "" for core v1, "discovery.k8s.io", "projectcalico.org", …
	kind  string
	parse func(obj []byte, src *source, m *Meta) error
}

// kinds is the table of objects read; other kinds are skipped and counted.
var kinds = []kind{
	{"", "Pod", parsePod},
	{"", "Service", parseService},
	{"", "Endpoints", parseEndpoints},
	{"discovery.k8s.io", "EndpointSlice", parseEndpointSlice},
	{"", "Node", parseNode},
	{"projectcalico.org", "Node", parseCalicoNode},
	{"projectcalico.org", "IPPool", parsePool},
	{"crd.projectcalico.org", "IPPool", parsePool},
	{"projectcalico.org", "WorkloadEndpoint", parseWEP},
}

// lookupKind returns the row for an apiVersion and kind, nil when none.
func lookupKind(apiVersion, k string) *kind {
	group := ""
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		group = g
	}
	for i := range kinds {
		if kinds[i].kind == k && kinds[i].group == group {
			return &kinds[i]
		}
	}
	return nil
}

// detectObjects recognises JSON or YAML whose first object has an apiVersion or kind field at its top
// level, within the file's first bytes (kubectl and calicoctl print apiVersion first).
func detectObjects(src *source) bool {
	head := trimLead(src.data)
	if len(head) == 0 || bytes.IndexByte(head[:min(len(head), 4096)], 0) >= 0 {
		return false
	}
	if head[0] == '[' { // a bare array of objects; other tools' JSON arrays (ip -j) have no apiVersion
		return bytes.Contains(head, []byte(`"apiVersion"`))
	}
	if head[0] == '{' {
		return bytes.Contains(head, []byte(`"apiVersion"`)) || bytes.Contains(head, []byte(`"kind"`))
	}
	for line := range bytes.Lines(head) {
		if bytes.HasPrefix(line, []byte("apiVersion:")) || bytes.HasPrefix(line, []byte("kind:")) ||
			bytes.HasPrefix(line, []byte(`"apiVersion":`)) || bytes.HasPrefix(line, []byte(`"kind":`)) {
			return true
		}
	}
	return false
}

// trimLead drops a byte-order mark, leading blank space, YAML comments and document markers.
func trimLead(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if bytes.HasPrefix(b, []byte("#")) || bytes.HasPrefix(b, []byte("---")) {
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
				continue
			}
			return nil
		}
		return b
	}
}

// header is what every object and List has.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// objectStats counts a file's objects for its problems.
type objectStats struct {
	read    int
	skipped map[string]int // kind → count
	probs   []Problem
}

func parseObjects(src *source, m *Meta) []Problem {
	st := &objectStats{skipped: map[string]int{}}
	docs, err := documents(src.data)
	for _, d := range docs {
		st.object(d.json, "", "", src, m, fmt.Sprintf("document %d", d.n))
	}
	if err != nil {
		st.probs = append(st.probs, Problem{File: src.path, Msg: err.Error()})
	}
	if len(st.skipped) > 0 {
		var ks []string
		n := 0
		for k, c := range st.skipped {
			ks = append(ks, fmt.Sprintf("%s %d", k, c))
			n += c
		}
		sort.Strings(ks)
		st.probs = append(st.probs, Problem{File: src.path, Msg: fmt.Sprintf("%d object(s) of kinds calipath does not use skipped (%s)", n, strings.Join(ks, ", "))})
	}
	if st.read == 0 && err == nil {
		st.probs = append(st.probs, Problem{File: src.path, Msg: "no objects calipath uses"})
	}
	return st.probs
}

// object reads one object: a List's items one by one, or one object by its kind. A List's item
// without apiVersion or kind takes them from the List (a PodList's items are Pods).
func (st *objectStats) object(raw []byte, defVersion, defKind string, src *source, m *Meta, where string) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		st.probs = append(st.probs, Problem{File: src.path, Msg: fmt.Sprintf("%s: %v", where, err)})
		return
	}
	if h.APIVersion == "" {
		h.APIVersion = defVersion
	}
	if h.Kind == "" {
		h.Kind = defKind
	}
	if h.Kind == "List" || strings.HasSuffix(h.Kind, "List") {
		item := strings.TrimSuffix(h.Kind, "List")
		for i, it := range h.Items {
			st.object(it, h.APIVersion, item, src, m, fmt.Sprintf("%s item %d", where, i+1))
		}
		return
	}
	k := lookupKind(h.APIVersion, h.Kind)
	if k == nil {
		name := h.Kind
		if name == "" {
			name = "(no kind)"
		}
		st.skipped[name]++
		return
	}
	if err := k.parse(raw, src, m); err != nil {
		st.probs = append(st.probs, Problem{File: src.path, Msg: fmt.Sprintf("%s: %s: %v", where, h.Kind, err)})
		if !errors.As(err, new(readWithout)) {
			return
		}
	}
	st.read++
}

// readWithout is a parser's problem with one field of an object it read all the same, without that
// field (a workload endpoint's spec.mac that is no MAC address).
type readWithout struct{ error }

// documents splits a file into JSON documents: JSON values one after another, or YAML documents
// separated by "---" lines, each converted to JSON. A broken document ends JSON input (nothing after
// it can be found) but only that document of YAML input; the error says which.
func documents(data []byte) ([]document, error) {
	lead := trimLead(data)
	if len(lead) > 0 && (lead[0] == '{' || lead[0] == '[') {
		var out []document
		dec := json.NewDecoder(bytes.NewReader(lead))
		for i := 1; ; i++ {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return out, fmt.Errorf("document %d: %v", i, err)
			}
			if len(v) > 0 && v[0] == '[' { // a bare array of objects
				var items []json.RawMessage
				if err := json.Unmarshal(v, &items); err != nil {
					return out, fmt.Errorf("document %d: %v", i, err)
				}
				for _, it := range items {
					out = append(out, document{i, it})
				}
				continue
			}
			out = append(out, document{i, v})
		}
	}
	var out []document
	var errs []string
	for i, d := range splitYAML(data) {
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			errs = append(errs, fmt.Sprintf("document %d: %v", i+1, err))
			continue
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
			continue
		}
		out = append(out, document{i + 1, j})
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// document is one document of a file, as JSON, and its number in the file (from 1).
type document struct {
	n    int
	json []byte
}

// splitYAML splits a YAML stream at its "---" document markers (a line "---", possibly followed by
// a space and more) and drops "..." document ends.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	off := 0
	for line := range bytes.Lines(data) {
		t := bytes.TrimRight(line, "\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.Equal(t, []byte("...")) {
			docs = append(docs, data[start:off])
			start = off + len(line)
		}
		off += len(line)
	}
	docs = append(docs, data[start:])
	return docs
}
