package lab

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// BenchResult is n runs of the probe in one scenario's lab.
type BenchResult struct {
	Scenario string
	Runs     []Run
}

// Spread is the median and the extremes of one measure over a bench's runs.
type Spread struct {
	Median, Min, Max float64
}

// spread returns the median, minimum and maximum of xs (the mean of the middle two when even).
func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// measure returns f of every run.
func (b BenchResult) measure(f func(Run) float64) Spread {
	xs := make([]float64, len(b.Runs))
	for i, r := range b.Runs {
		xs[i] = f(r)
	}
	return spread(xs)
}

// Wall is the spread of the probe process's wall time, in seconds.
func (b BenchResult) Wall() Spread { return b.measure(func(r Run) float64 { return r.Wall.Seconds() }) }

// Reported is the spread of the duration the probe reported itself (duration_ms), in seconds.
func (b BenchResult) Reported() Spread {
	return b.measure(func(r Run) float64 {
		if r.Report == nil {
			return 0
		}
		return float64(r.Report.DurationMS) / 1000
	})
}

// CPU is the spread of user + system CPU time of the probe process, in seconds.
func (b BenchResult) CPU() Spread { return b.measure(func(r Run) float64 { return r.CPU.Seconds() }) }

// RSS is the spread of the probe process's peak resident set size, in bytes.
func (b BenchResult) RSS() Spread { return b.measure(func(r Run) float64 { return float64(r.MaxRSS) }) }

// Exits returns the distinct exit statuses of the runs.
func (b BenchResult) Exits() []int {
	var exits []int
	for _, r := range b.Runs {
		if !slices.Contains(exits, r.Exit) {
			exits = append(exits, r.Exit)
		}
	}
	slices.Sort(exits)
	return exits
}

// Bench starts sc's lab once and runs the probe n times in it, one after the other, after one
// warm-up run that is not counted (it pays for the page cache). extra are probe flags.
func Bench(ctx context.Context, probePath string, sc Scenario, n int, extra ...string) (BenchResult, error) {
	res := BenchResult{Scenario: sc.Name}
	l, err := Start(ctx, sc)
	if err != nil {
		return res, err
	}
	defer l.Close()
	if _, err := l.RunProbe(ctx, probePath, extra...); err != nil {
		return res, err
	}
	for i := 0; i < n; i++ {
		r, err := l.RunProbe(ctx, probePath, extra...)
		if err != nil {
			return res, err
		}
		r.Stdout, r.Stderr = nil, nil // the measures are all a bench keeps
		res.Runs = append(res.Runs, r)
	}
	return res, nil
}

// WriteBench prints results as a table: median and (min … max) of wall time, the probe's own
// reported duration, CPU and peak RSS.
func WriteBench(w io.Writer, results []BenchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\truns\texit\twall\treported\tuser+sys CPU\tpeak RSS")
	for _, b := range results {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%s\t%s\n", b.Scenario, len(b.Runs), b.Exits(),
			seconds(b.Wall()), seconds(b.Reported()), seconds(b.CPU()), mebibytes(b.RSS()))
	}
	tw.Flush()
}

// seconds renders a spread of seconds as "31 ms (28 … 40)".
func seconds(s Spread) string {
	ms := func(x float64) string { return fmt.Sprintf("%.0f", x*1000) }
	return fmt.Sprintf("%s ms (%s … %s)", ms(s.Median), ms(s.Min), ms(s.Max))
}

// mebibytes renders a spread of bytes as "14.2 MiB (13.9 … 14.5)".
func mebibytes(s Spread) string {
	mib := func(x float64) string { return fmt.Sprintf("%.1f", x/(1<<20)) }
	return fmt.Sprintf("%s MiB (%s … %s)", mib(s.Median), mib(s.Min), mib(s.Max))
}
