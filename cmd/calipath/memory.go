package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/units"
)

// inMemoryBytesPerFrame is what the in-memory path holds at its peak per frame read, as measured on
// the generated sets of scripts/bench.sh (peak RSS: 51 bytes a frame with 1,000 flows, 53 on the
// ARP-heavy set, 63 with 200,000 flows, 62 with them and --journeys), with a margin: the estimate
// --memory is held against.
const inMemoryBytesPerFrame = 80

// boundedBytesPerFrame is what the bounded-memory mode still holds on the heap per frame at its peak:
// the flows, the journeys open in the matching window, the output; nothing per frame itself, so it is
// the flows' share of the frames. Measured (peak anonymous memory, two cores): under 1 byte a frame
// on 102 M generated frames of 1,000 flows, 13 on the 200,000-flow bench set of 10.2 M frames. Past
// the limit at this rate, the mode warns that it may pass it.
const boundedBytesPerFrame = 15

// minSoftLimit is the smallest --memory the bounded-memory mode hands the Go runtime as its soft
// memory limit: below, the collector would run without end for memory it cannot free.
const minSoftLimit = 256 << 20

// memoryFlag is --memory SIZE: the memory report may use before it keeps the frames in temporary
// files (decode.LoadSpilled). Unset, it is half the machine's memory.
type memoryFlag struct {
	n   int64
	set bool
}

func (m *memoryFlag) String() string {
	if !m.set {
		return ""
	}
	return units.Bytes(m.n)
}
func (m *memoryFlag) Type() string { return "SIZE" }
func (m *memoryFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return fmt.Errorf("--memory %s: %w", s, err)
	}
	m.n, m.set = n, true
	return nil
}

// limit returns the limit: the flag's value, else half of MemTotal in meminfo (0, no limit, when it
// cannot be read).
func (m *memoryFlag) limit(meminfo string) int64 {
	if m.set {
		return m.n
	}
	return memTotal(meminfo) / 2
}

// parseSize reads a size in bytes: a number with an optional unit K, M, G or T (powers of 1,024;
// KB/KiB and so on are the same), e.g. 2G, 512M, 1.5G, 1000000.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1.0
	if t != "" {
		if i := strings.IndexByte("KMGT", t[len(t)-1]); i >= 0 {
			mult = math.Pow(1024, float64(i+1))
			t = t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	// Under one byte is no size: 0 would be read as no limit at all.
	if err != nil || !(v*mult >= 1) || v*mult >= math.MaxInt64 {
		return 0, errors.New("want a positive size such as 2G, 512M or 1500000000")
	}
	return int64(v * mult), nil
}

// memTotal returns MemTotal from a /proc/meminfo file in bytes, 0 when it cannot be read.
func memTotal(path string) int64 { return procKB(path, "MemTotal:") * 1024 }

// load reads the inputs: into memory when their estimated frames fit the limit (0: no limit), else
// into temporary files (bounded-memory mode), saying so on stderr, with the limit as the Go runtime's
// soft memory limit (from minSoftLimit up; the process ends with the report). The Spill is nil in memory; the
// caller closes it once the Result is no longer used. When the frames cannot be kept in files, it
// says why and reads them into memory.
func load(paths []string, dopts decode.Options, cfg decode.PointConfig, progress decode.Progress, limit int64,
	stderr io.Writer) (*decode.Capture, *decode.Spill) {
	if limit <= 0 {
		return decode.LoadProgress(paths, dopts, cfg, progress), nil
	}
	frames, unsized := decode.EstimateFrames(paths, dopts)
	need := frames * inMemoryBytesPerFrame
	if need <= limit {
		return decode.LoadProgress(paths, dopts, cfg, progress), nil
	}
	dir := os.TempDir()
	fmt.Fprintf(stderr, "calipath: the inputs hold about %s frames (by their sizes%s), about %s in memory, more than --memory %s: "+
		"bounded-memory mode, the frames kept in temporary files in %s\n",
		units.Count(int(frames)), unsizedNote(unsized), units.Bytes(need), units.Bytes(limit), sanitize(dir))
	if still := frames * boundedBytesPerFrame; still > limit {
		fmt.Fprintf(stderr, "calipath: warning: even so, the flows and the open journeys stay in memory (up to about %d bytes a frame with many flows: about %s here), "+
			"more than --memory %s: this run may pass the limit; give a larger --memory or fewer frames (a shorter time span)\n",
			boundedBytesPerFrame, units.Bytes(still), units.Bytes(limit))
	}
	if decode.SpillInMemory(dir) {
		fmt.Fprintf(stderr, "calipath: %s is held in memory (tmpfs): the frames kept there take memory all the same; set TMPDIR to a directory on disk\n",
			sanitize(dir))
	}
	if limit >= minSoftLimit {
		debug.SetMemoryLimit(limit) // the heap's collections keep to it too (a soft limit)
	}
	c, sp, err := decode.LoadSpilled(paths, dopts, cfg, progress, dir)
	if err != nil {
		fmt.Fprintf(stderr, "calipath: the frames cannot be kept in temporary files (%s): reading them into memory\n", sanitize(err.Error()))
		return decode.LoadProgress(paths, dopts, cfg, progress), nil
	}
	return c, sp
}

// warnMapped says, in bounded-memory mode, when some of the journeys' arrays could not be kept in
// temporary files (a full disk) and are in memory instead.
func warnMapped(sp *decode.Spill, stderr io.Writer) {
	if err := sp.MapErr(); err != nil {
		fmt.Fprintf(stderr, "calipath: some of the journeys cannot be kept in temporary files (%s): kept in memory\n", sanitize(err.Error()))
	}
}

// unsizedNote says how many inputs the estimate could not size.
func unsizedNote(unsized []string) string {
	if len(unsized) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d of unknown size not counted", len(unsized))
}

// warnPeak says, after a run with a --memory limit, when the process's peak resident memory (VmHWM
// in status, a /proc/PID/status file) passed it. The estimate before reading cannot know the flows
// the inputs hold, and many flows of few frames each take more than it counts: this line says so
// when it happened, rather than leave the limit silently passed. The peak counts resident pages of
// the temporary files too, which the kernel may reclaim, and which memory accounting charges all the
// same. Without the file (not Linux), it says nothing.
func warnPeak(status string, limit int64, bounded bool, stderr io.Writer) {
	peak := procKB(status, "VmHWM:") * 1024
	if limit <= 0 || peak <= limit {
		return
	}
	what := "the frames and the flows held in memory"
	if bounded {
		what = "the flows and the open journeys held in memory, and the temporary files' resident pages"
	}
	fmt.Fprintf(stderr, "calipath: warning: this run's peak resident memory, %s, passed --memory %s (%s); "+
		"give a larger --memory or fewer frames (a shorter time span)\n", units.Bytes(peak), units.Bytes(limit), what)
}

// procKB returns the value in kB of the line of a /proc file that starts with key ("VmHWM:  123 kB"),
// or 0 when the file or the line cannot be read.
func procKB(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil || kb <= 0 {
				return 0
			}
			return kb
		}
	}
	return 0
}
