package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcpfiber/mcpfiber/bench"
)

// A spread is the median, quartiles and range of some figures.
type spread struct {
	n           int
	med, lo, hi float64
	q1, q3      float64
}

// quartilesFrom is the number of figures from which format gives the
// quartiles too.
const quartilesFrom = 8

func spreadOf(xs []float64) (spread, bool) {
	if len(xs) == 0 {
		return spread{}, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return spread{n: len(s), med: quantile(s, 0.5), lo: s[0], hi: s[len(s)-1], q1: quantile(s, 0.25), q3: quantile(s, 0.75)}, true
}

// quantile returns the q-quantile of sorted s, interpolated at position
// q·(n+1) (Python's statistics.quantiles, method "exclusive").
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)+1)
	i := int(pos)
	switch {
	case i < 1:
		return s[0]
	case i >= len(s):
		return s[len(s)-1]
	}
	return s[i-1] + (pos-float64(i))*(s[i]-s[i-1])
}

// format writes the median and, with several figures, the range; with
// quartilesFrom figures or more, the quartiles before the range.
func (s spread) format(verb string) string {
	m := fmt.Sprintf(verb, s.med)
	if s.lo == s.hi {
		return m
	}
	r := fmt.Sprintf(verb, s.lo) + "–" + fmt.Sprintf(verb, s.hi)
	if s.n >= quartilesFrom {
		return m + " (quartiles " + fmt.Sprintf(verb, s.q1) + "–" + fmt.Sprintf(verb, s.q3) + ", range " + r + ")"
	}
	return m + " (" + r + ")"
}

// floorOf names the floor of a figure.
func floorOf(fig string) string {
	if fig == "miss" {
		return bench.Floor
	}
	return bench.Floor200
}

// summarize writes the Markdown summary of runs.
func summarize(w io.Writer, c *config, runs []Run) {
	find := func(pass int, fig, server string) *Run {
		for i := range runs {
			if r := &runs[i]; r.Pass == pass && r.Figure == fig && r.Server == server {
				return r
			}
		}
		return nil
	}
	collect := func(fig, server string, f func(*Run) float64) []float64 {
		var xs []float64
		for p := 1; p <= c.passes; p++ {
			if r := find(p, fig, server); r != nil {
				xs = append(xs, f(r))
			}
		}
		return xs
	}
	// ratio collects, per pass, f(a)/f(b) where both ran.
	ratio := func(fig, a, b string, f func(*Run) float64) []float64 {
		var xs []float64
		for p := 1; p <= c.passes; p++ {
			ra, rb := find(p, fig, a), find(p, fig, b)
			if ra != nil && rb != nil && f(rb) > 0 {
				xs = append(xs, f(ra)/f(rb))
			}
		}
		return xs
	}
	cell := func(xs []float64, verb string) string {
		if s, ok := spreadOf(xs); ok {
			return s.format(verb)
		}
		return "—"
	}
	rate := func(r *Run) float64 { return r.OpsPerS }
	cpu := func(r *Run) float64 { return r.CPUPerOpUs }

	fmt.Fprintf(w, "Server on CPU %s, load generator on CPU %s; %d passes; medians (range over the passes; with %d passes or more, quartiles first).\n\n", c.serverCPU, c.loadCPU, c.passes, quartilesFrom)
	var las []string
	for p := 1; p <= c.passes; p++ {
		for _, r := range runs {
			if r.Pass == p {
				las = append(las, r.LoadAvg)
				break
			}
		}
	}
	fmt.Fprintf(w, "Load average at the start of each pass: %s.\n\n", strings.Join(las, "; "))

	fmt.Fprintln(w, "| figure | server | successful ops/s | server CPU per op (µs) | server busy | failed |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|")
	for _, fig := range c.figures {
		if fig == "storm" || fig == "memory" {
			continue
		}
		for _, s := range c.serversOf(fig) {
			failed := 0.0
			for _, x := range collect(fig, s, func(r *Run) float64 { return float64(r.Failed) }) {
				failed += x
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.0f |\n", fig, s,
				cell(collect(fig, s, rate), "%.0f"), cell(collect(fig, s, cpu), "%.2f"),
				cell(collect(fig, s, func(r *Run) float64 { return 100 * r.Busy }), "%.0f%%"), failed)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| figure | mcpfiber vs floor: floor's CPU/op ÷ mcpfiber's | mcpfiber vs gosdk: rate | gosdk's CPU/op ÷ mcpfiber's |")
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	for _, fig := range c.figures {
		if fig == "storm" || fig == "memory" {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", fig,
			cell(ratio(fig, floorOf(fig), bench.MCPFiber, cpu), "%.2f×"),
			cell(ratio(fig, bench.MCPFiber, bench.GoSDK, rate), "%.2f×"),
			cell(ratio(fig, bench.GoSDK, bench.MCPFiber, cpu), "%.2f×"))
	}
	fmt.Fprintln(w)

	if slices.Contains(c.figures, "storm") {
		fmt.Fprintf(w, "Storm, %d clients (SIGKILL + restart; stale call → 404 → initialize → initialized → call):\n\n", c.storm)
		fmt.Fprintln(w, "| server | recovery of the last client (ms) | p99 (ms) | 404s per client | requests per client | server CPU per client (µs) | failed |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
		for _, s := range c.serversOf("storm") {
			nf := "—"
			lo, hi := 1<<30, -1
			failed := int64(0)
			for _, r := range runs {
				if r.Figure == "storm" && r.Server == s {
					lo, hi = min(lo, r.NotFound[0]), max(hi, r.NotFound[1])
					failed += r.Failed
				}
			}
			if hi >= 0 {
				nf = fmt.Sprintf("%d–%d", lo, hi)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d |\n", s,
				cell(collect("storm", s, func(r *Run) float64 { return r.RecoveryMs }), "%.0f"),
				cell(collect("storm", s, func(r *Run) float64 { return r.P99Ms }), "%.0f"),
				nf,
				cell(collect("storm", s, func(r *Run) float64 { return float64(r.Requests) / float64(c.storm) }), "%.2f"),
				cell(collect("storm", s, cpu), "%.1f"), failed)
		}
		fmt.Fprintf(w, "\ngosdk's recovery time ÷ mcpfiber's (within a pass): %s; gosdk's CPU per client ÷ mcpfiber's: %s.\n\n",
			cell(ratio("storm", bench.GoSDK, bench.MCPFiber, func(r *Run) float64 { return r.RecoveryMs }), "%.2f×"),
			cell(ratio("storm", bench.GoSDK, bench.MCPFiber, cpu), "%.2f×"))
	}

	if slices.Contains(c.figures, "memory") {
		fmt.Fprintf(w, "Memory: RSS growth (after GC and debug.FreeOSMemory) per idle session (%d) and per open GET stream (%d, each in a session of its own, beyond the session):\n\n", c.idle, c.streams)
		fmt.Fprintln(w, "| server | RSS per idle session (B) | RSS per GET stream (B) |")
		fmt.Fprintln(w, "|---|--:|--:|")
		for _, s := range c.serversOf("memory") {
			fmt.Fprintf(w, "| %s | %s | %s |\n", s,
				cell(collect("memory", s, func(r *Run) float64 { return r.RSSPerSession }), "%.0f"),
				cell(collect("memory", s, func(r *Run) float64 { return r.RSSPerStream }), "%.0f"))
		}
		fmt.Fprintln(w)
	}
}
