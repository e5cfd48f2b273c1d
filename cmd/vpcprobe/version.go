package main

// What --version and "vpcprobe version" print, and the version a report carries: the stamps of a
// release build (scripts/release, the Dockerfile), else what the Go toolchain recorded in the
// binary — the module version of `go install …@v1.2.3`, the VCS revision and time of a `go build`
// in a checkout.

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Stamped at build time by release builds: -ldflags "-X main.version=v1.2.3 -X main.commit=<sha>
// -X main.date=2026-12-08T00:00:00Z" (scripts/release, Dockerfile).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// stamp is what a build says of itself.
type stamp struct {
	Version  string // v1.2.3, or dev for a source build
	Commit   string // the VCS revision; empty when unknown
	Date     string // when the commit was made (release: SOURCE_DATE_EPOCH), RFC 3339; empty when unknown
	Modified bool   // the checkout had uncommitted changes
}

// buildStamp is this binary's stamp.
func buildStamp() stamp {
	info, _ := debug.ReadBuildInfo()
	return stampOf(version, commit, date, info)
}

// stampOf combines the -X stamps with the build information: a stamp given wins; a source build
// ("dev") takes the module's version when `go install module@version` built it, and the VCS
// revision, time and modified flag that `go build` records in a checkout.
func stampOf(version, commit, date string, info *debug.BuildInfo) stamp {
	s := stamp{Version: version, Commit: commit, Date: date}
	if info == nil {
		return s
	}
	if s.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		s.Version = info.Main.Version
	}
	if s.Commit != "" {
		return s
	}
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			s.Commit = kv.Value
		case "vcs.time":
			if s.Date == "" {
				s.Date = kv.Value
			}
		case "vcs.modified":
			s.Modified = kv.Value == "true"
		}
	}
	return s
}

// versionLine is the one line of --version: "vpcprobe v1.2.3 (commit 0123abc…, built
// 2026-12-08T00:00:00Z)"; what is unknown is left out.
func versionLine(s stamp) string {
	line := "vpcprobe " + s.Version
	var detail string
	if s.Commit != "" {
		detail = "commit " + s.Commit
		if s.Modified {
			detail += ", modified"
		}
	}
	if s.Date != "" {
		if detail != "" {
			detail += ", "
		}
		detail += "built " + s.Date
	}
	if detail != "" {
		line += " (" + detail + ")"
	}
	return line
}

// newVersionFlags is the flag set of "vpcprobe version": none but --help.
func newVersionFlags(out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe version", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: vpcprobe version\n\nPrints the version, the commit and the build date (as --version does), exit 0.\n")
	}
	return fs
}

// runVersion is "vpcprobe version".
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newVersionFlags(stdout)
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK
		}
		fmt.Fprintf(stderr, "vpcprobe version: %v\n", flagError(fs, err))
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vpcprobe version: unexpected argument %q: it takes none\n", fs.Arg(0))
		return exitUsage
	}
	fmt.Fprintln(stdout, versionLine(buildStamp()))
	return exitOK
}
