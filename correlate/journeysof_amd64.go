package correlate

// journeysOfN is journeysOfGo for the n slots from ch into the n int32s from out, in
// journeysof_amd64.s: eight slots a turn, their low and high halves gathered by SHUFPS.
//
//go:noescape
func journeysOfN(out *int32, ch *uint64, n int, rk uint32)
