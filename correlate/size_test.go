package correlate

import (
	"math"
	"reflect"
	"testing"
	"unsafe"
)

// A flow holds one pointTally for each point it crosses, and on the many-flow set they are on the
// memory peak (200,000 flows of six points): keep them at 16 bytes.
func TestPointTallySize(t *testing.T) {
	if n := unsafe.Sizeof(pointTally{}); n != 16 {
		t.Fatalf("pointTally is %d bytes, want 16", n)
	}
}

// A flow holds its path votes (up to eight short lists, eight votes inline) until the paths are
// built, at the memory peak of many flows: keep a vote at 8 bytes, and a count from overflowing.
func TestVoteSize(t *testing.T) {
	if n := unsafe.Sizeof(vote{}); n != 8 {
		t.Fatalf("vote is %d bytes, want 8", n)
	}
	var v votes
	v.addN(3, math.MaxInt32-1)
	v.addN(3, 5)
	v.addN(4, 1)
	if v[0].n != math.MaxInt32 || v.top() != 3 {
		t.Errorf("votes %v: want key 3 at %d, on top", v, math.MaxInt32)
	}
}

// Every flow holds a flowAcc to the end of the run, at the memory peak of many flows (200,000 on the
// many-flow set): its counts are int32 (they count the flow's journeys, whose ids are int32), and its
// journeys and its paths indexes (jAt, pathOf); keep it at 296 bytes.
func TestFlowAccSize(t *testing.T) {
	if n := unsafe.Sizeof(flowAcc{}); n != 288 {
		t.Fatalf("flowAcc is %d bytes, want 288", n)
	}
	if n := unsafe.Sizeof(tcpSeqState{}); n != 12 {
		t.Fatalf("tcpSeqState is %d bytes, want 12", n)
	}
}

// Every flow holds its votes (pathVotes) until the paths are built, at the memory peak of many flows,
// and each collection then reads every pointer word of every flow's: the tallies in place and what
// few directions show behind one pointer (dirRare); keep a direction's votes at 48 bytes with one
// pointer word.
func TestPathVotesSize(t *testing.T) {
	if n := unsafe.Sizeof(dirVotes{}); n != 48 {
		t.Fatalf("dirVotes is %d bytes, want 48", n)
	}
	if n := pointerWords(reflect.TypeFor[pathVotes]()); n != 2 {
		t.Fatalf("pathVotes holds %d pointer words, want 2", n)
	}
}

// The matcher holds a jstate per open journey (the window's worth, in a ring): offload across nodes
// and NAT reads what it needs from the latest sighting's Observation, so keep it at 128 bytes (96
// until its stages went from 8 to 16: a journey through two routers crosses ten points, and past 8 a copy of a frame was taken for a hop:
// TestLabHopsOnce).
func TestJStateSize(t *testing.T) {
	if n := unsafe.Sizeof(jstate{}); n != 128 {
		t.Fatalf("jstate is %d bytes, want 128", n)
	}
}
