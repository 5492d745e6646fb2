package correlate

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/calipath/calipath/decode"
)

// UnfitError says why a Capture with its Options gives nothing to report: no input could be read, or
// an option names something no input has. Each problem is one line, naming the input or option.
type UnfitError struct {
	Problems []string
}

func (e *UnfitError) Error() string { return strings.Join(e.Problems, "; ") }

// Check reports what makes c and opts unfit for a report: every input unreadable (missing, a
// directory, not a capture, …), or an Offsets entry for a node that no capture point is on (the
// offset would silently correct nothing). It returns nil when they fit. Correlate itself never fails; callers
// that take input from users (the command line, the TUI) call Check first and stop on an error.
func Check(c *decode.Capture, opts Options) error {
	var problems []string
	if len(c.Files) > 0 && len(Unreadable(c)) == len(c.Files) {
		for _, u := range Unreadable(c) {
			problems = append(problems, u.File+": "+u.Error)
		}
		if len(c.Files) == 1 {
			problems = append(problems, "the input could not be read: nothing to report")
		} else {
			problems = append(problems, fmt.Sprintf("none of the %d inputs could be read: nothing to report", len(c.Files)))
		}
	}
	nodes := map[string]bool{}
	for _, p := range c.Points {
		nodes[p.Node] = true
	}
	for _, n := range sortedKeys(opts.Offsets) {
		if !nodes[n] {
			list := strings.Join(sortedKeys(nodes), ", ")
			if list == "" {
				list = "none"
			}
			problems = append(problems, fmt.Sprintf("--offset %s=%s: no input was captured on node %q (nodes: %s)",
				n, opts.Offsets[n], n, list))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &UnfitError{Problems: problems}
}

// Unreadable lists the inputs of which nothing could be read, in input order.
func Unreadable(c *decode.Capture) []UnreadableInput {
	var out []UnreadableInput
	for _, f := range c.Files {
		if f.Err == nil || f.Records > 0 {
			continue
		}
		msg := f.Err.Error()
		var pe *fs.PathError
		if errors.As(f.Err, &pe) { // "open x: no such file or directory" → "no such file or directory"
			msg = pe.Err.Error()
		}
		msg = strings.TrimPrefix(msg, f.Path+": ")
		out = append(out, UnreadableInput{File: f.Path, Error: msg})
	}
	return out
}
