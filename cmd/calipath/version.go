package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildDate is the date the binary was built, when the build said it:
//
//	go build -ldflags "-X main.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/calipath
//
// Go records the module version and the commit in the binary, but no build date.
var buildDate string

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", stdout, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fs, stderr, "version takes no arguments")
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	_, err := io.WriteString(stdout, versionText(bi, buildDate))
	return err
}

// versionText says which calipath bi describes: the module version, the commit it was built from
// (and whether the work tree had changes), the commit's date, the build date, and the Go release and
// platform. What the binary does not record is said to be unknown; bi may be nil.
func versionText(bi *debug.BuildInfo, built string) string {
	version, goVersion := "unknown", runtime.Version()
	commit, commitTime, modified := "unknown", "", ""
	if bi != nil {
		switch v := bi.Main.Version; v {
		case "":
		case "(devel)":
			version = "devel (built from a source tree without a version)"
		default:
			version = v
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				commitTime = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (with uncommitted changes)"
				}
			}
		}
	}
	if commitTime != "" {
		commit += ", committed " + commitTime
	}
	if built == "" {
		built = "unknown"
	}
	return fmt.Sprintf("calipath %s\ncommit:  %s%s\nbuilt:   %s\ngo:      %s %s/%s\n",
		version, commit, modified, built, goVersion, runtime.GOOS, runtime.GOARCH)
}
