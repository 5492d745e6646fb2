package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// firstEntry decodes the first entry of a JSON list (what `ip -j` prints) into its fields; ok is
// false when data is not a JSON list of objects.
func firstEntry(data []byte) (map[string]json.RawMessage, bool) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '[' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	if _, err := dec.Token(); err != nil || !dec.More() {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, false
	}
	return m, true
}

// has reports whether m has every key.
func has(m map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// jsonEntries calls each with every entry of the JSON list in data, its 1-based number and the line
// it starts on. An entry each cannot read is its problem; a list that stops being JSON is a problem,
// and what came before it is kept.
func jsonEntries(file string, data []byte, each func(entry, line int, raw json.RawMessage) error) []Problem {
	var probs []Problem
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return []Problem{{File: file, Msg: "line 1: not a JSON list"}}
	}
	lineAt := func(off int64) int {
		off = min(max(off, 0), int64(len(data)))
		for off < int64(len(data)) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\n' ||
			data[off] == '\r' || data[off] == ',') {
			off++
		}
		return 1 + bytes.Count(data[:off], []byte{'\n'})
	}
	for entry := 1; dec.More(); entry++ {
		line := lineAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			probs = append(probs, entryProblem(file, line, entry, "not JSON (%v); the rest is not read", err))
			return probs
		}
		if err := each(entry, line, raw); err != nil {
			probs = append(probs, entryProblem(file, line, entry, "%v", err))
		}
	}
	if _, err := dec.Token(); err != nil {
		probs = append(probs, Problem{File: file, Msg: fmt.Sprintf("line %d: the JSON list does not end (%v)",
			lineAt(dec.InputOffset()), err)})
	}
	return probs
}
