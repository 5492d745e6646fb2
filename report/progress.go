package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/calipath/calipath/internal/units"
)

// Progress draws a one-line progress bar of reading input files: bytes read of the total, frames per
// second and the estimated time left. Its Update method has the shape of decode.Progress and is safe
// for concurrent use. Create it only when the writer is a terminal.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	now    func() time.Time
	start  time.Time
	last   time.Time
	every  time.Duration
	bytes  []int64
	sizes  []int64
	frames []int
	drawn  int // width of the line on screen
}

// NewProgress returns a Progress for files input files, drawing to w at most every 100 ms.
func NewProgress(w io.Writer, files int) *Progress {
	return newProgress(w, files, time.Now)
}

func newProgress(w io.Writer, files int, now func() time.Time) *Progress {
	files = max(files, 0)
	return &Progress{w: w, now: now, start: now(), every: 100 * time.Millisecond,
		bytes: make([]int64, files), sizes: make([]int64, files), frames: make([]int, files)}
}

// Update records how far file has got and redraws the bar if it is due.
func (p *Progress) Update(file int, bytes, size int64, frames, skipped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if file < 0 || file >= len(p.bytes) {
		return
	}
	p.bytes[file], p.sizes[file], p.frames[file] = bytes, size, frames
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.draw(t)
	}
}

// Done clears the bar.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.drawn)+"\r")
		p.drawn = 0
	}
}

func (p *Progress) draw(t time.Time) {
	var read, total int64
	frames, done := 0, 0
	for i := range p.bytes {
		read += p.bytes[i]
		total += max(p.sizes[i], p.bytes[i])
		frames += p.frames[i]
		if p.sizes[i] > 0 && p.bytes[i] >= p.sizes[i] {
			done++
		}
	}
	line := progressLine(read, total, frames, done, len(p.bytes), t.Sub(p.start))
	pad := ""
	if n := p.drawn - len([]rune(line)); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawn = len([]rune(line))
}

// progressLine renders the bar: at most 79 columns.
func progressLine(read, total int64, frames, done, files int, elapsed time.Duration) string {
	const barW = 24
	frac := 0.0
	if total > 0 {
		frac = min(float64(read)/float64(total), 1)
	}
	fill := int(frac * barW)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", barW-fill)
	secs := elapsed.Seconds()
	rate, eta := "", ""
	if secs > 0 {
		rate = fmt.Sprintf("  %s frames/s", count(float64(frames)/secs))
		if frac > 0 && frac < 1 {
			left := time.Duration(secs * (1 - frac) / frac * float64(time.Second)).Round(time.Second)
			eta = "  ETA " + left.String()
		}
	}
	return fmt.Sprintf("[%s] %3.0f%% %s/%s %d/%d files%s%s", bar, frac*100, units.Bytes(read), units.Bytes(total), done, files, rate, eta)
}

// count formats a rate: 950, 12.3k, 4.56M.
func count(x float64) string {
	switch {
	case x < 1000:
		return fmt.Sprintf("%.0f", x)
	case x < 1e6:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.2fM", x/1e6)
}
