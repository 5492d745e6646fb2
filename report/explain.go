package report

import (
	"fmt"

	"github.com/calipath/calipath/correlate"
)

// citation is the dump line an explanation cites: "file:line: text" ("file: (no line)" when what
// explains the anomaly is what the dump lacks).
func citation(e correlate.Explanation) string {
	at := e.File
	if e.Line > 0 {
		at += fmt.Sprintf(":%d", e.Line)
	}
	if e.Entry > 0 {
		at += fmt.Sprintf(" (entry %d)", e.Entry)
	}
	if e.Text == "" {
		return at + ": (no such line)"
	}
	return at + ": " + e.Text
}
