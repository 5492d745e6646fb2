package cluster

// ipDumpFormat is the row of Load's format table for one kind of `ip` dump (ipDumps): it reads the
// dump into Meta.NodeState, the node from a NODE=FILE prefix or the file's name.
func ipDumpFormat(name string) format {
	return format{
		name:   name,
		detect: func(f *source) bool { return DetectIPDump(f.path, f.data) == name },
		parse: func(f *source, m *Meta) []Problem {
			if m.NodeState == nil {
				m.NodeState = map[string]*NodeState{}
			}
			_, probs := ReadIPDump(m.NodeState, f.path, f.node, f.data)
			return probs
		},
	}
}
