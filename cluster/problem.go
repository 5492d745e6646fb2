package cluster

// Problem is something wrong in a metadata file that did not stop the rest of it from being read.
type Problem struct {
	File string
	Msg  string
}

func (p Problem) String() string { return p.File + ": " + p.Msg }
