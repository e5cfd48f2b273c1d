package main

import (
	"io"
	"os"

	"golang.org/x/term"

	"github.com/vpcprobe/vpcprobe/report"
)

// textWidth is the width text reports wrap their prose at: the terminal's columns when w is
// one, else report.DefaultWidth (80).
func textWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return report.DefaultWidth
}
