package main

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// helpWidth is the width the flags' descriptions are wrapped to.
const helpWidth = 100

// flagUsages lists the flags of fs that are not hidden, one per entry: the flag, the placeholder
// naming its value (the back-quoted word of its usage, or its Value's Type, e.g. NODE=FILE), and the
// usage wrapped to width columns, with the default when it says something (not false, 0 or empty).
func flagUsages(fs *pflag.FlagSet, width int) string {
	type row struct{ left, usage string }
	var rows []row
	col := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, usage := placeholder(f)
		if name != "" {
			left += " " + name
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && f.Value.Type() != "bool" {
			usage += " (default " + d + ")"
		}
		rows = append(rows, row{left, usage})
		col = max(col, len(left))
	})
	rows = append(rows, row{"  -h, --help", "show this help"})
	col = max(col, len(rows[len(rows)-1].left))
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.left)
		b.WriteString(strings.Repeat(" ", col+3-len(r.left)))
		line := 0
		for _, w := range strings.Fields(r.usage) {
			if line > 0 && col+3+line+1+len(w) > width {
				b.WriteString("\n" + strings.Repeat(" ", col+3))
				line = 0
			}
			if line > 0 {
				b.WriteByte(' ')
				line++
			}
			b.WriteString(w)
			line += len(w)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// placeholder returns the word that stands for a flag's value in the help ("" for a boolean flag)
// and its usage without the back quotes. A flag whose usage names no value and whose Value's Type is
// a Go type gets a word for what such a value is (N for a number), never the Go type.
func placeholder(f *pflag.Flag) (name, usage string) {
	name, usage = pflag.UnquoteUsage(f)
	switch name {
	case "bool":
		name = ""
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
		name = "N"
	case "float", "float32", "float64":
		name = "NUMBER"
	case "duration":
		name = "DURATION"
	case "string", "value":
		name = "VALUE"
	case "strings", "stringArray", "stringSlice":
		name = "VALUES"
	}
	if f.Value.Type() == "bool" {
		name = ""
	}
	return name, usage
}

// flagsOf is the stdout a subcommand is run with by flagSetOf: its flag set's Usage (see newFlagSet)
// keeps the flag set instead of printing the help.
type flagsOf struct {
	fs   *pflag.FlagSet
	args string // what follows the flags, e.g. "FILE..."
}

func (*flagsOf) Write(b []byte) (int, error) { return len(b), nil }

// flagSetOf returns the flag set of the subcommand c, as its run function builds it (by running it
// with -h), and what it takes after the flags; nil for a subcommand without flags.
func flagSetOf(c command) (*pflag.FlagSet, string) {
	if c.run == nil {
		return nil, ""
	}
	d := &flagsOf{}
	_ = c.run(context.Background(), []string{"-h"}, d, io.Discard)
	return d.fs, d.args
}
