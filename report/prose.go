package report

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vpcprobe/vpcprobe/checks"
)

// DefaultWidth is the width text views wrap prose at when stdout is not a terminal: the
// traditional terminal's 80 columns, which a pasted report in an issue or a chat also fits.
const DefaultWidth = 80

// minWidth is the narrowest width Prose wraps at: a terminal narrower than this (or a width
// that could not be read) gets DefaultWidth instead of a column of single words.
const minWidth = 40

// hangMax is the longest label Prose hangs its continuation lines under.
const hangMax = 12

// Writer writes the text views for a person: prose wrapped at Width with a hanging indent, each
// sentence said once per Writer (a paragraph whose every sentence was said is left out), and
// commands kept paste-able. The probe's, inspect's, the join's and the launch's text all write
// through one, so one rule of layout holds everywhere.
type Writer struct {
	B     *bytes.Buffer
	Width int
	said  map[string]bool
}

// NewWriter returns a Writer on b wrapping at width (DefaultWidth when width is too small).
func NewWriter(b *bytes.Buffer, width int) *Writer {
	if width < minWidth {
		width = DefaultWidth
	}
	return &Writer{B: b, Width: width, said: map[string]bool{}}
}

// Line writes s after indent as it is: a heading, a table row, a list of ids.
func (w *Writer) Line(indent, s string) {
	w.B.WriteString(indent + s + "\n")
}

// Fields writes fields after indent separated by two spaces, as many on a line as fit the
// width, continuing on lines indented two further: a header of "key value" pairs.
func (w *Writer) Fields(indent string, fields ...string) {
	line := indent
	for _, f := range fields {
		if f == "" {
			continue
		}
		switch {
		case line == indent || strings.TrimSpace(line) == "":
			line += f
		case width(line)+2+width(f) <= w.Width:
			line += "  " + f
		default:
			w.B.WriteString(line + "\n")
			line = indent + "  " + f
		}
	}
	w.B.WriteString(line + "\n")
}

// Prose writes text after indent and label ("why: ", "fix: "), wrapped at the width, the lines
// after the first indented under the text. Sentences this Writer already wrote are dropped;
// it writes nothing, and reports false, when none is left.
func (w *Writer) Prose(indent, label, text string) bool {
	// A command quoted in the prose (`aws …`) is not prose: it is said as "the command below"
	// and written after the paragraph on a line of its own, where it pastes as it is.
	var cmds []string
	text = quotedCommand.ReplaceAllStringFunc(text, func(q string) string {
		cmds = append(cmds, strings.Trim(q, "`"))
		return "the command below"
	})
	defer func() {
		for _, c := range cmds {
			w.Command(indent+strings.Repeat(" ", min(width(label), hangMax)), "$ ", c)
		}
	}()
	var fresh []string
	for _, s := range Sentences(text) {
		if w.said[s] {
			continue
		}
		w.said[s] = true
		fresh = append(fresh, s)
	}
	if len(fresh) == 0 {
		return false
	}
	// Continuation lines hang under the text after a short label ("why: "), and two columns in
	// after a long one ("note internet-registry: "), which would leave a narrow column.
	rest := indent + strings.Repeat(" ", width(label))
	if width(label) > hangMax {
		rest = indent + "  "
	}
	w.Wrap(indent+label, rest, strings.Join(fresh, " "))
	return true
}

// quotedCommand is an AWS CLI command quoted in prose with backticks.
var quotedCommand = regexp.MustCompile("`aws [^`]+`")

// Say marks text's sentences as said, so that later prose does not repeat them.
func (w *Writer) Say(text string) {
	for _, s := range Sentences(text) {
		w.said[s] = true
	}
}

// Said reports whether every sentence of text was already written.
func (w *Writer) Said(text string) bool {
	for _, s := range Sentences(text) {
		if !w.said[s] {
			return false
		}
	}
	return true
}

// Command writes an AWS CLI command after indent and label on one line, whatever the width, so
// that it pastes into a shell as it is (a "$ " line is a command, not prose: it is never
// wrapped, and continuation lines would repeat each other from one command to the next). It
// writes each command once per Writer and reports false when it was already written.
func (w *Writer) Command(indent, label, cmd string) bool {
	key := "\x00cmd\x00" + cmd
	if w.said[key] {
		return false
	}
	w.said[key] = true
	w.B.WriteString(indent + label + cmd + "\n")
	return true
}

// Wrap writes text word by word, the first line after first and the others after rest, each at
// most the width unless one word is longer (an ARN, a URL: never cut).
func (w *Writer) Wrap(first, rest, text string) {
	line, prefix := first, first
	for _, word := range strings.Fields(text) {
		switch {
		case line == prefix:
			line += word
		case width(line)+1+width(word) <= w.Width:
			line += " " + word
		default:
			w.B.WriteString(line + "\n")
			line, prefix = rest+word, rest
		}
	}
	w.B.WriteString(line + "\n")
}

// sentenceEnd is where one sentence ends and the next begins: a full stop, then a space and a
// capital letter. Dots inside names (api.ecr.eu-west-1.amazonaws.com, 10.0.1.0/24) never are.
var sentenceEnd = regexp.MustCompile(`[.!?]\s+[A-Z(]`)

// Sentences splits prose into its sentences, each trimmed.
func Sentences(text string) []string {
	var out []string
	for {
		text = strings.TrimSpace(text)
		if text == "" {
			return out
		}
		loc := sentenceEnd.FindStringIndex(text)
		if loc == nil {
			return append(out, text)
		}
		out = append(out, text[:loc[0]+1])
		text = text[loc[1]-1:]
	}
}

// width is the number of columns s takes: one per rune (the report prints no wide characters).
func width(s string) int { return utf8.RuneCountInString(s) }

// Shown is a finding as a text view shows it: merged with the findings that say the same (its
// Services then name them all), with every distinct command that fixes one of them, and the
// lines its finder adds (the probe's failed checks).
type Shown struct {
	Finding
	Commands []string
	// Title replaces the head line's "code: services" when set ("ecr.api, ecr.dkr: one cause").
	Title string
	// Lines come after the head, before why: one a line, wrapped.
	Lines []string
	// Notes come last, after the fix: one a line, wrapped (ECS's raw reason, the endpoint).
	Notes []string
	// Label goes before the severity ("related ").
	Label string
	// Color paints the severity for a terminal.
	Color bool
}

// head is the shown finding's first line: label, severity, then the title or the code and the
// services it bears on.
func (s Shown) head() string {
	h := s.Label + paint(checks.Status(s.Severity), strings.ToUpper(string(s.Severity)), s.Color) + " "
	if s.Title != "" {
		return h + s.Title
	}
	h += s.Code
	if keys := s.Keys(); len(keys) > 0 {
		h += ": " + strings.Join(keys, ", ")
	}
	return h
}

// WriteFinding writes one finding after indent: the head line, the resources it names ("in:"),
// the finder's lines, why (the diagnosis), then the commands that fix it, each one line that
// pastes into a shell (never wrapped: a "$ " line is not prose), or, with no command, the
// remediation. Sentences and commands this Writer already wrote are not repeated. Every text
// view prints findings through it: the probe's groups, inspect, the join, the launch.
func (w *Writer) WriteFinding(indent string, s Shown) {
	w.Wrap(indent, indent+"  ", s.head())
	in := indent + "  "
	if len(s.Resources) > 0 {
		w.Wrap(in+"in: ", in+"    ", strings.Join(s.Resources, ", "))
	}
	for _, l := range s.Lines {
		w.Wrap(in, in+"  ", l)
	}
	w.Prose(in, "why: ", s.Diagnosis)
	cmds := s.Commands
	if len(cmds) == 0 && s.Command != "" {
		cmds = []string{s.Command}
	}
	wrote := 0
	for _, c := range cmds {
		if w.Command(in, "$ ", c) {
			wrote++
		}
	}
	switch {
	case len(cmds) == 1 && wrote == 0:
		w.Line(in, "fix: the command above")
	case len(cmds) > 1 && wrote == 0:
		w.Line(in, "fix: the commands above")
	case len(cmds) == 0:
		w.Prose(in, "fix: ", s.Remediation)
	}
	for _, n := range s.Notes {
		if n != "" {
			w.Wrap(in, in+"  ", n)
		}
	}
}

// Merge returns findings as they are shown: those with the same severity and code are one,
// naming all their services and all their resources (each kept), with every distinct command,
// in order of first appearance. The merged diagnosis and remediation are the members' when they
// differ only by their services or by single words (a resource id, a host: "endpoint vpce-1,
// vpce-2 and vpce-3"), each list said once; else the diagnosis is what(code), the code's own
// description. Findings whose remediations differ and that have no command to show instead stay
// apart.
func Merge(findings []Finding, what func(code string) string) []Shown {
	var out []Shown
	var members [][]Finding
	for _, f := range findings {
		i := slices.IndexFunc(out, func(s Shown) bool { return s.Severity == f.Severity && s.Code == f.Code })
		if i >= 0 {
			g := append(slices.Clone(members[i]), f)
			if d, r, ok := mergedText(g, what); ok {
				m := &out[i]
				members[i] = g
				for _, k := range f.Keys() {
					if !m.Affects(k) {
						m.Services = append(m.Services, k)
					}
				}
				for _, res := range f.Resources {
					if !slices.Contains(m.Resources, res) {
						m.Resources = append(m.Resources, res)
					}
				}
				m.Diagnosis, m.Remediation = d, r
				if f.Command != "" && !slices.Contains(m.Commands, f.Command) {
					m.Commands = append(m.Commands, f.Command)
				}
				continue
			}
		}
		s := Shown{Finding: f}
		s.Resources = slices.Clone(f.Resources)
		s.Services = slices.Clone(f.Services)
		if f.Command != "" {
			s.Commands = []string{f.Command}
		}
		out, members = append(out, s), append(members, []Finding{f})
	}
	return out
}

// mergedText is the diagnosis and remediation of a merged group g, and whether it can be one.
func mergedText(g []Finding, what func(string) string) (diagnosis, remediation string, ok bool) {
	var all []string
	commands := true
	for _, f := range g {
		commands = commands && f.Command != ""
		for _, k := range f.Keys() {
			if !slices.Contains(all, k) {
				all = append(all, k)
			}
		}
	}
	one := func(text func(Finding) string) (string, bool) {
		texts := make([]string, len(g))
		same := true
		for i, f := range g {
			texts[i] = withoutKey(text(f), f.Keys())
			same = same && texts[i] == texts[0]
		}
		if same {
			return strings.ReplaceAll(texts[0], phService, and(all)), true
		}
		return alignWords(texts, all)
	}
	d, okD := one(func(f Finding) string { return f.Diagnosis })
	r, okR := one(func(f Finding) string { return f.Remediation })
	if !okR {
		if !commands {
			return "", "", false // the remediation is all some member says of its fix
		}
		r = ""
	}
	if !okD {
		if what == nil || what(g[0].Code) == "" {
			return "", "", false
		}
		d = what(g[0].Code)
	}
	return d, r, true
}

// alignWords merges texts that have the same words but in some places (a resource id, a host
// name): each such place lists its words once, "a, b and c". The service placeholder reads as
// keys. It reports false when the texts differ in their number of words or in punctuation.
func alignWords(texts []string, keys []string) (string, bool) {
	words := make([][]string, len(texts))
	for i, t := range texts {
		words[i] = strings.Fields(t)
		if len(words[i]) != len(words[0]) {
			return "", false
		}
	}
	out := make([]string, len(words[0]))
	for j := range words[0] {
		var cores []string
		lead, trail := "", ""
		for i := range words {
			w := words[i][j]
			l := w[:len(w)-len(strings.TrimLeft(w, "(\""))]
			t := w[len(strings.TrimRight(w, ",.:;)\"")):]
			if i == 0 {
				lead, trail = l, t
			} else if l != lead || t != trail {
				return "", false
			}
			if core := w[len(l) : len(w)-len(t)]; !slices.Contains(cores, core) {
				cores = append(cores, core)
			}
		}
		out[j] = lead + and(cores) + trail
	}
	return strings.ReplaceAll(strings.Join(out, " "), phService, and(keys)), true
}

// keyWord matches a service key standing as a word ("connections to ecr.api time out"), not one
// inside a name or an API action (secretsmanager:GetSecretValue, api.ecr.…).
func keyWord(key string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[ (])` + regexp.QuoteMeta(key) + `([ ,;)]|[.:](?:\s|$)|$)`)
}

// withoutKey returns text with each of keys, standing as a word, replaced by a placeholder.
func withoutKey(text string, keys []string) string {
	for _, k := range keys {
		text = keyWord(k).ReplaceAllString(text, "${1}"+phService+"${2}")
	}
	return text
}
