package correlate

import "sort"

// detectNodeIPDoubts lists the nodes whose --node-ip the captures do not show them sending from
// (decode.NodeIPDoubts): one warning per node, with what the captures show instead.
func detectNodeIPDoubts(f *findings, k *kindRow) []Anomaly {
	doubts := f.a.w.c.NodeIPDoubts
	nodes := make([]string, 0, len(doubts))
	for n := range doubts {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var out []Anomaly
	for _, n := range nodes {
		out = append(out, k.anomaly(k.severity, Where{Node: n}, nil, f.ids, 1, nil, doubts[n]))
	}
	return out
}

// detectPointFileDoubts lists the points whose files cannot be captures of one interface
// (decode.PointFileDoubts).
func detectPointFileDoubts(f *findings, k *kindRow) []Anomaly {
	doubts := f.a.w.c.PointFileDoubts
	ids := make([]string, 0, len(doubts))
	for id := range doubts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Anomaly
	for _, id := range ids {
		out = append(out, k.anomaly(k.severity, Where{Point: id}, nil, f.ids, 1, nil, doubts[id]))
	}
	return out
}
