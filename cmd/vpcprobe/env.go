package main

// Environment hygiene: which VPCPROBE_* variables exist (each subcommand's flags under its own
// prefix, and a short list of documented ones that are not flags), the warning for one that does
// not, and flag errors in plain words instead of pflag's and strconv's.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/vpcprobe/vpcprobe/responder"
)

// documentedEnv are the VPCPROBE_* variables that are no flag of any subcommand but are
// documented, and so never warned about. Keep them here, and only here.
var documentedEnv = append([]string{
	"VPCPROBE_RUN_ID", // set by launch in each task it starts (the probe's --run-id)
}, responder.EnvNames...) // the responder's function settings (its template sets them)

// envPrefixOf is the prefix of the variables of a flag set's flags: VPCPROBE_ for the probe
// ("vpcprobe"), VPCPROBE_LAUNCH_ for "vpcprobe launch", VPCPROBE_EXPLAIN_STOPPED_ for
// "vpcprobe explain-stopped": a subcommand never reads the variables of the probe it starts.
func envPrefixOf(fs *pflag.FlagSet) string {
	sub := strings.TrimSpace(strings.TrimPrefix(fs.Name(), "vpcprobe"))
	if sub == "" {
		return envPrefix
	}
	return envName(sub) + "_"
}

// envNameIn returns the variable that sets flag name of fs.
func envNameIn(fs *pflag.FlagSet, name string) string {
	return envPrefixOf(fs) + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// annotateEnv adds each flag's variable to its help line, once.
func annotateEnv(fs *pflag.FlagSet, skip ...string) {
	fs.VisitAll(func(f *pflag.Flag) {
		if !slices.Contains(skip, f.Name) && !strings.Contains(f.Usage, "[$") {
			f.Usage += " [$" + envNameIn(fs, f.Name) + "]"
		}
	})
}

// knownEnv maps every variable vpcprobe reads to what sets it the same way on the command line
// ("--services", "launch --cluster"; "" for a documented non-flag variable).
func knownEnv() map[string]string {
	known := map[string]string{}
	add := func(fs *pflag.FlagSet, cmd string) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name != "version" && f.Name != "help" {
				known[envNameIn(fs, f.Name)] = strings.TrimSpace(cmd + " --" + f.Name)
			}
		})
	}
	add(newFlagSet(&options{}, io.Discard), "")
	for _, sc := range subcommands() {
		add(sc.flags(io.Discard), sc.name)
	}
	for _, name := range documentedEnv {
		known[name] = ""
	}
	return known
}

// warnUnknownEnv writes one warning line per VPCPROBE_* variable of environ that vpcprobe does
// not read, naming the closest one it does: VPCPROBE_SERVICE=all is most likely a typo of
// VPCPROBE_SERVICES, silently ignored otherwise. When sub is the subcommand that runs, a probe
// variable whose flag sub also has is warned about the same way: "vpcprobe inspect" reads
// VPCPROBE_INSPECT_OUTPUT, never VPCPROBE_OUTPUT.
func warnUnknownEnv(environ []string, sub *subcommand, stderr io.Writer) {
	var known map[string]string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		if known == nil {
			known = knownEnv()
		}
		if flag, ok := known[name]; ok {
			if sub != nil {
				if msg := notReadBy(name, flag, sub); msg != "" {
					fmt.Fprintln(stderr, msg)
				}
			}
			continue
		}
		msg := fmt.Sprintf("vpcprobe: warning: %s is not a vpcprobe setting and is ignored", name)
		if best := closestEnv(name, known); len(best) > 0 {
			for i, b := range best {
				msg += map[bool]string{true: "; did you mean ", false: " or "}[i == 0] + b
				if flag := known[b]; flag != "" {
					msg += " (" + flag + ")"
				}
			}
			msg += "?"
		} else {
			msg += " (vpcprobe help lists the settings)"
		}
		fmt.Fprintln(stderr, msg)
	}
}

// notReadBy is the warning for the probe's variable name (of flag "--output") when subcommand
// sub runs: empty unless sub has that flag under its own variable, which it reads instead.
func notReadBy(name, flag string, sub *subcommand) string {
	probeFlag, ok := strings.CutPrefix(flag, "--")
	if !ok || strings.Contains(flag, " ") {
		return "" // not the probe's: a subcommand's own, or a documented non-flag variable
	}
	fs := sub.flags(io.Discard)
	if fs.Lookup(probeFlag) == nil {
		return "" // a setting of the probe sub has no counterpart of: meant for the probe
	}
	own := envNameIn(fs, probeFlag)
	return fmt.Sprintf("vpcprobe: warning: %s is not a setting of vpcprobe %s and is ignored; did you mean %s (%s --%s)?",
		name, sub.name, own, sub.name, probeFlag)
}

// closestEnv returns the known variables nearest to name by edit distance (at most two, when
// equally near), comparing also with each subcommand variable's name inside its subcommand
// (VPCPROBE_CLUSTER is near VPCPROBE_LAUNCH_CLUSTER) at a distance of one more; none when none
// is near enough to be a likely typo.
func closestEnv(name string, known map[string]string) []string {
	want := strings.TrimPrefix(name, envPrefix)
	candidates := make([]string, 0, len(known))
	for k := range known {
		candidates = append(candidates, k)
	}
	slices.Sort(candidates) // ties are listed in the same order every time
	var best []string
	bestD := max(2, len(want)/3) + 1
	for _, k := range candidates {
		d := editDistance(want, strings.TrimPrefix(k, envPrefix))
		if flag := known[k]; strings.Contains(flag, " ") { // a subcommand's: compare the flag part too
			sub, _, _ := strings.Cut(flag, " ")
			inner := strings.TrimPrefix(k, envName(sub)+"_")
			d = min(d, editDistance(want, inner)+1)
		}
		switch {
		case d < bestD:
			best, bestD = []string{k}, d
		case d == bestD && len(best) < 2:
			best = append(best, k)
		}
	}
	if bestD > max(2, len(want)/3) {
		return nil
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// valueWanted says in plain words what a flag's value must look like.
func valueWanted(f *pflag.Flag) string {
	if c, ok := f.Value.(*choiceValue); ok {
		return "want " + c.wanted()
	}
	switch f.Value.Type() {
	case "duration":
		return "want a duration such as 5s, 90s or 2m"
	case "bool":
		return "want true or false"
	case "int", "int32", "int64", "uint":
		return "want a whole number"
	}
	return "see --help"
}

// flagError turns pflag's parse errors into one plain line: no "strconv.ParseBool" or "time:
// invalid duration", and a suggestion for a mistyped flag.
func flagError(fs *pflag.FlagSet, err error) error {
	var invalid *pflag.InvalidValueError
	var missing *pflag.NotExistError
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return usagef("--%s %s: not a valid value (%s)", f.Name, shown(invalid.GetValue()), valueWanted(f))
	case errors.As(err, &missing):
		name := missing.GetSpecifiedName()
		if name == "" {
			return usagef("unknown flag -%s (see --help)", missing.GetSpecifiedShortnames())
		}
		best, bestD := "", -1
		fs.VisitAll(func(f *pflag.Flag) {
			if d := editDistance(name, f.Name); bestD < 0 || d < bestD {
				best, bestD = f.Name, d
			}
		})
		if bestD >= 0 && bestD <= max(2, len(name)/3) {
			return usagef("unknown flag --%s: did you mean --%s? (see --help)", name, best)
		}
		return usagef("unknown flag --%s (see --help)", name)
	}
	return usagef("%v (see --help)", err)
}

// envValueError is the line for a variable whose value its flag refuses.
func envValueError(fs *pflag.FlagSet, f *pflag.Flag, value string) error {
	return usagef("%s=%s: not a valid value for --%s (%s); fix the variable or pass --%s", envNameIn(fs, f.Name), shown(value), f.Name, valueWanted(f), f.Name)
}

// envAnnotation marks a flag whose value came from its variable; it holds the raw value.
const envAnnotation = "vpcprobe-env"

// setFromEnv sets f from its variable's value v and remembers that it did (fromEnv).
func setFromEnv(fs *pflag.FlagSet, f *pflag.Flag, v string) error {
	if err := f.Value.Set(strings.TrimSpace(v)); err != nil {
		return envValueError(fs, f, v)
	}
	fs.SetAnnotation(f.Name, envAnnotation, []string{v})
	return nil
}

// fromEnv rewrites a usage error about a flag set from the environment so that it names the
// variable and its value ("VPCPROBE_TIMEOUT=0s: must be positive"), not a flag nobody passed.
// Errors are written "--name value: …" or "--name: …"; other errors pass unchanged.
func fromEnv(err error, fs *pflag.FlagSet) error {
	var ue usageError
	if !errors.As(err, &ue) || fs == nil {
		return err
	}
	var out error = ue
	fs.VisitAll(func(f *pflag.Flag) {
		raw, ok := f.Annotations[envAnnotation]
		if !ok || out != error(ue) {
			return
		}
		rest, ok := strings.CutPrefix(ue.msg, "--"+f.Name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != ':') {
			return
		}
		for _, v := range []string{f.Value.String(), strconv.Quote(f.Value.String()), raw[0], strconv.Quote(raw[0])} {
			if r, ok := strings.CutPrefix(rest, " "+v); ok && (r == "" || r[0] == ':' || r[0] == ' ') {
				rest = r
				break
			}
		}
		out = usagef("%s=%s%s", envNameIn(fs, f.Name), shown(raw[0]), rest)
	})
	return out
}

// shown is a value as an error line shows it: bare, or quoted when empty or holding spaces or
// quotes.
func shown(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"'") {
		return strconv.Quote(v)
	}
	return v
}
