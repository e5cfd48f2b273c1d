package main

// A mistyped subcommand: "vpcprobe inspekt" names the subcommand it most likely meant instead of
// pflag's "unexpected argument".

import (
	"strings"
)

// subcommandNames are the words that may follow vpcprobe: the subcommands and help.
func subcommandNames() []string {
	var names []string
	for _, sc := range subcommands() {
		names = append(names, sc.name)
	}
	return append(names, "help")
}

// unknownSubcommand is the usage error of a first argument that is no flag and no subcommand:
// the probe takes only flags, so a word there is a subcommand mistyped or one that does not
// exist. A first argument that is a flag (or a lone "-") is the probe's: nil.
func unknownSubcommand(arg string) error {
	if strings.HasPrefix(arg, "-") {
		return nil
	}
	return noSubcommand(arg)
}

// noSubcommand says that name is no subcommand, suggesting the nearest when it is near enough
// to be a typo (explain-stoped → explain-stopped, inspekt → inspect).
func noSubcommand(name string) error {
	names := subcommandNames()
	best, bestD := "", -1
	for _, n := range names {
		if d := editDistance(strings.ToLower(name), n); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(name)/3) {
		return usagef("no subcommand %q: did you mean %s? (subcommands: %s)", name, best, strings.Join(names, ", "))
	}
	return usagef("no subcommand %q: vpcprobe takes flags or one of the subcommands %s (see --help)", name, strings.Join(names, ", "))
}
