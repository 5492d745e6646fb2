package correlate

import "sort"

// detectNodeIPDoubts lists the nodes whose --node-ip the captures do not show them sending from
// (decode.NodeIPDoubts): one warning per node, with what the captures show instead.
func detectNodeIPDoubts(f *findings, k *kindRow) []Anomaly {
	return doubtAnomalies(f, k, f.a.w.c.NodeIPDoubts, func(n string) Where { return Where{Node: n} })
}

// detectPointFileDoubts lists the points whose files cannot be captures of one interface
// (decode.PointFileDoubts).
func detectPointFileDoubts(f *findings, k *kindRow) []Anomaly {
	return doubtAnomalies(f, k, f.a.w.c.PointFileDoubts, func(id string) Where { return Where{Point: id} })
}

// detectAnyTies lists the -i any interfaces left unnamed because captures of two different
// interfaces of their node matched them equally well (decode.Point.Tie).
func detectAnyTies(f *findings, k *kindRow) []Anomaly {
	ties := map[string]string{}
	for _, p := range f.a.w.c.Points {
		if p.Tie != "" {
			ties[p.ID] = p.Tie + "."
		}
	}
	return doubtAnomalies(f, k, ties, func(id string) Where { return Where{Point: id} })
}

// doubtAnomalies gives one anomaly of kind k per key of doubts (a node or a point, placed by where),
// in key order, its message the doubt's text.
func doubtAnomalies(f *findings, k *kindRow, doubts map[string]string, where func(string) Where) []Anomaly {
	keys := make([]string, 0, len(doubts))
	for key := range doubts {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var out []Anomaly
	for _, key := range keys {
		out = append(out, k.anomaly(k.severity, where(key), nil, f.ids, 1, nil, doubts[key]))
	}
	return out
}
