package main

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled when first used, not when the program starts:
// every run of the probe would otherwise build the launcher's and inspect's validators (a
// bounded repetition such as {1,255} compiles to hundreds of instructions: half a megabyte of
// heap for this package's patterns), which raises the heap the garbage collector paces from.
type lazyRegexp struct {
	pattern string
	once    sync.Once
	re      *regexp.Regexp
}

// lazyRE returns pattern compiled on first use; an invalid pattern panics then, as
// regexp.MustCompile would at start-up (the command tests use every one).
func lazyRE(pattern string) *lazyRegexp { return &lazyRegexp{pattern: pattern} }

// MatchString reports whether s contains a match of the pattern.
func (l *lazyRegexp) MatchString(s string) bool {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pattern) })
	return l.re.MatchString(s)
}
