package main

// --output is checked as it is parsed, before anything else is read or resolved: "--output yaml"
// fails first, not after a region error, and its variable fails the same way.

import (
	"strings"

	"github.com/spf13/pflag"
)

// choiceValue is a string flag that takes one of a few words (or stays empty: the default).
type choiceValue struct {
	p       *string
	choices []string
}

// newChoice returns a flag value writing to p that accepts only choices.
func newChoice(p *string, choices ...string) *choiceValue {
	return &choiceValue{p: p, choices: choices}
}

func (c *choiceValue) String() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}

// Set refuses any other word; pflag reports it as an invalid value of the flag (flagError).
func (c *choiceValue) Set(v string) error {
	for _, ok := range c.choices {
		if v == ok {
			*c.p = v
			return nil
		}
	}
	return usagef("must be %s", c.wanted())
}

// Type is "string", as for the flags it replaces: --help shows "--output string".
func (c *choiceValue) Type() string { return "string" }

// wanted is "text or json".
func (c *choiceValue) wanted() string {
	switch len(c.choices) {
	case 0:
		return "empty"
	case 1:
		return c.choices[0]
	}
	return strings.Join(c.choices[:len(c.choices)-1], ", ") + " or " + c.choices[len(c.choices)-1]
}

// outputFlag defines --output on fs: what stdout carries, one of choices.
func outputFlag(fs *pflag.FlagSet, p *string, usage string, choices ...string) {
	fs.Var(newChoice(p, choices...), "output", usage)
}
