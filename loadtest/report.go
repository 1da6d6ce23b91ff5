package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

// writeResults writes r to w as JSON lines (one per time window, then the
// summary) and/or a Markdown table, as --format says.
func writeResults(w io.Writer, c *config, r *load.Result) error {
	if c.format != "markdown" {
		if err := writeJSONLines(w, r); err != nil {
			return err
		}
	}
	if c.format != "json" {
		if c.format == "both" {
			fmt.Fprintln(w)
		}
		writeMarkdown(w, r)
	}
	return nil
}

func writeJSONLines(w io.Writer, r *load.Result) error {
	enc := json.NewEncoder(w)
	for _, win := range r.Windows {
		if err := enc.Encode(struct {
			Type     string `json:"type"`
			Scenario string `json:"scenario"`
			load.Window
		}{"window", r.Scenario, win}); err != nil {
			return err
		}
	}
	return enc.Encode(struct {
		Type string `json:"type"`
		*load.Result
	}{"summary", r})
}

func writeMarkdown(w io.Writer, r *load.Result) {
	fmt.Fprintf(w, "### loadtest %s → %s\n\n", r.Scenario, r.URL)
	loop := r.Loop
	switch loop {
	case "open":
		loop = fmt.Sprintf("open (%.0f/s, ≤%d in flight)", r.TargetRate, r.Concurrency)
	case "closed":
		loop = fmt.Sprintf("closed (%d workers)", r.Concurrency)
	default:
		loop = "—"
	}
	l := r.Latency
	if s := r.Storm; s != nil {
		writeStormMarkdown(w, r, s)
	} else {
		fmt.Fprintln(w, "| loop | elapsed s | ops | ok | errors | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		fmt.Fprintf(w, "| %s | %.2f | %d | %d | %d | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f |\n\n",
			loop, timeSeconds(r.Elapsed), r.Requests, r.OK, r.Errors, r.Throughput, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	if f := r.Fleet; f != nil {
		writeFleetMarkdown(w, r, f)
	}
	if g := r.GetKill; g != nil {
		writeGetKillMarkdown(w, g)
	}
	if s := r.Streams; s != nil {
		fmt.Fprintln(w, "| streams wanted | opened | failed | dropped | open ms | held s | events | comments |")
		fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|")
		fmt.Fprintf(w, "| %d | %d | %d | %d | %.1f | %.1f | %d | %d |\n\n",
			s.Wanted, s.Opened, s.Failed, s.Dropped, s.OpenMs, s.HeldS, s.Events, s.Comments)
	}
	if len(r.Proc) > 0 && (r.Proc[len(r.Proc)-1].RSSBytes > 0 || r.Proc[len(r.Proc)-1].Goroutines > 0) {
		first, last := r.Proc[0], r.Proc[len(r.Proc)-1]
		var peak load.ProcSample
		for _, p := range r.Proc {
			if p.RSSBytes > peak.RSSBytes {
				peak = p
			}
			peak.Goroutines = max(peak.Goroutines, p.Goroutines)
			peak.Threads = max(peak.Threads, p.Threads)
		}
		fmt.Fprintln(w, "| server | RSS MiB | threads | goroutines |")
		fmt.Fprintln(w, "|---|--:|--:|--:|")
		for _, row := range []struct {
			name string
			p    load.ProcSample
		}{{"first", first}, {"peak", peak}, {"last", last}} {
			fmt.Fprintf(w, "| %s | %.1f | %d | %d |\n", row.name, float64(row.p.RSSBytes)/(1<<20), row.p.Threads, row.p.Goroutines)
		}
		fmt.Fprintln(w)
	}
	if len(r.Statuses) > 0 {
		if r.Storm != nil {
			fmt.Fprintln(w, "| status of the requests | count |")
		} else {
			fmt.Fprintln(w, "| status | count |")
		}
		fmt.Fprintln(w, "|---|--:|")
		for _, k := range load.SortedKeys(r.Statuses) {
			fmt.Fprintf(w, "| %s | %d |\n", k, r.Statuses[k])
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
}

// writeStormMarkdown writes a storm's two tables, each of which adds up:
// the clients (clients = recovered + failed; the times are those of the
// recovered ones) and the requests they sent to recover (requests =
// useful + 404 + other failures).
func writeStormMarkdown(w io.Writer, r *load.Result, s *load.StormResult) {
	l := r.Latency
	fmt.Fprintln(w, "| policy | clients | established | recovered | failed | p50 ms | p90 ms | p99 ms | all recovered ms |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f |\n\n",
		s.Policy, s.Clients, s.Established, s.Recovered, s.Failures, l.P50, l.P90, l.P99, s.RecoveryMs)
	fmt.Fprintln(w, "| requests | useful | wasted: 404 to a stale ID | wasted: other | 404s per client | establish ms | lose ms |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|---|--:|--:|")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %d–%d | %.1f | %.1f |\n\n",
		s.Requests, s.Requests-s.Wasted, s.NotFound, s.Wasted-s.NotFound, s.NotFoundMin, s.NotFoundMax, s.EstablishMs, s.LoseMs)
}

// writeFleetMarkdown writes what a rolling or kill run measured: the
// calls (calls = ok + failed + lost), the event's latencies, the nodes'
// restarts, and whether each target was met.
func writeFleetMarkdown(w io.Writer, r *load.Result, f *load.FleetResult) {
	fmt.Fprintln(w, "| event | nodes | clients | established | calls | ok | re-initializations | 404s | failed | lost in flight | failovers (of which 503) | p50 ms | p99 ms | recover ms |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d (%d) | %.1f | %.1f | %.1f |\n\n",
		f.Event, f.Nodes, f.Clients, f.Established, f.Calls, f.OK, f.Reinits, f.NotFound, f.Failed, f.Lost, f.Failovers, f.Unavailable,
		r.Latency.P50, r.Latency.P99, f.RecoverMs)
	fmt.Fprintln(w, "| calls due during the event | p50 ms | p99 ms | max ms | final calls ok | final calls failed |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(w, "| %d | %.1f | %.1f | %.1f | %d | %d |\n\n", f.EventCalls, f.EventP50Ms, f.EventP99Ms, f.EventMaxMs, f.FinalOK, f.FinalFailed)
	if f.Event == "kill" {
		fmt.Fprintln(w, "| clients' next call after the kill | failed | p50 ms | p99 ms | max ms |")
		fmt.Fprintln(w, "|--:|--:|--:|--:|--:|")
		fmt.Fprintf(w, "| %d | %d | %.1f | %.1f | %.1f |\n\n", f.FirstAfter, f.FirstAfterFailed, f.FirstAfterP50Ms, f.FirstAfterP99Ms, f.FirstAfterMaxMs)
	}
	if len(f.Restarts) > 0 {
		fmt.Fprintln(w, "| node | signal | at s | exit ms | down ms | ready ms |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|")
		for _, e := range f.Restarts {
			fmt.Fprintf(w, "| %d %s | %s | %.2f | %.1f | %.1f | %.1f |\n", e.Node, e.URL, e.Signal, e.AtS, e.ExitMs, e.DownMs, e.ReadyMs)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Targets (issue #10):")
	fmt.Fprintln(w)
	for _, t := range f.Targets {
		met := "met"
		if !t.Met {
			met = "NOT met"
		}
		fmt.Fprintf(w, "- %s: %s (want %s): %s\n", t.Name, t.Got, t.Want, met)
	}
	fmt.Fprintln(w)
}

// writeGetKillMarkdown writes what a getkill run measured: the streams
// and the broadcasts, the steady window's delivery, the check of every
// stream's broadcasts, the resumptions, and whether each target was met.
func writeGetKillMarkdown(w io.Writer, g *load.GetKillResult) {
	victim := "none"
	if g.Victim >= 0 {
		victim = fmt.Sprintf("%d (%d streams, at %.2f s)", g.Victim, g.OnVictim, g.KillAtS)
	}
	fmt.Fprintln(w, "| nodes | streams | opened | killed node | broadcasts/s | broadcasts | failed |")
	fmt.Fprintln(w, "|--:|--:|--:|---|--:|--:|--:|")
	fmt.Fprintf(w, "| %d | %d | %d | %s | %.0f | %d | %d |\n\n", g.Nodes, g.Streams, g.Opened, victim, g.Rate, g.Broadcasts, g.BroadcastFailed)
	fmt.Fprintln(w, "| steady window s | broadcasts/s | events/s delivered | events/s expected | delay p50 ms | delay p99 ms | delay max ms |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(w, "| %.2f | %.1f | %.0f | %.0f | %.1f | %.1f | %.1f |\n\n",
		g.SteadyS, g.SteadyBroadcasts, g.SteadyEvents, g.SteadyExpected, g.DelayP50Ms, g.DelayP99Ms, g.DelayMaxMs)
	fmt.Fprintln(w, "| events | lost | duplicated | out of order | streams with loss | with dup | lost on the killed node's streams | dup there | silent streams | behind at the end | highest first seq |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n",
		g.Events, g.Lost, g.Duplicated, g.OutOfOrder, g.StreamsWithLoss, g.StreamsWithDup, g.VictimLost, g.VictimDuplicated, g.Silent, g.Behind, g.FirstSeqMax)
	if g.Breaks > 0 || g.Victim >= 0 {
		fmt.Fprintln(w, "| streams broken | of the killed node | resumed | not resumed | resume GETs | 409 | 503 | refused | resume p50 ms | p99 ms | max ms | first event p50 ms | p99 ms | max ms |")
		fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n\n",
			g.Breaks, g.VictimBreaks, g.Resumed, g.NotResumed, g.ResumeGETs, g.Conflicts, g.Unavailable, g.Refused,
			g.ResumeP50Ms, g.ResumeP99Ms, g.ResumeMaxMs, g.FirstEventP50Ms, g.FirstEventP99Ms, g.FirstEventMaxMs)
		if len(g.ResumeStatuses) > 0 {
			fmt.Fprintln(w, "| other answers to a resume GET | count |")
			fmt.Fprintln(w, "|---|--:|")
			for _, k := range load.SortedKeys(g.ResumeStatuses) {
				fmt.Fprintf(w, "| %s | %d |\n", k, g.ResumeStatuses[k])
			}
			fmt.Fprintln(w)
		}
	}
	if g.Nodes > 1 {
		fmt.Fprintln(w, "| streams opened on node | streams | lost | duplicated | out of order |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
		for _, p := range g.PerNode {
			role := ""
			switch {
			case p.Node == g.Source:
				role = " (broadcasts raised here)"
			case p.Node == g.Victim:
				role = " (killed)"
			}
			fmt.Fprintf(w, "| %d%s | %d | %d | %d | %d |\n", p.Node, role, p.Streams, p.Lost, p.Duplicated, p.OutOfOrder)
		}
		fmt.Fprintln(w)
	}
	if e := g.Example; e != nil {
		fmt.Fprintf(w, "Example: stream %d, node %d → %d: broadcasts up to %d before the break; the first after the resumption: %v (this stream: %d lost, %d duplicated, %d out of order)\n\n",
			e.Stream, e.From, e.To, e.MaxBefore, e.After, e.Lost, e.Dup, e.OutOfOrd)
	}
	fmt.Fprintln(w, "Targets (issue #11):")
	fmt.Fprintln(w)
	for _, t := range g.Targets {
		met := "met"
		if !t.Met {
			met = "NOT met"
		}
		fmt.Fprintf(w, "- %s: %s (want %s): %s\n", t.Name, t.Got, t.Want, met)
	}
	fmt.Fprintln(w)
}

func timeSeconds(d load.Duration) float64 { return float64(d) / 1e9 }

// writeHTML writes a page with the latency over time (p50, p90, p99, max
// per window, and the throughput) and the latency histogram. The charts
// are inline SVG drawn here (go-chart), so the page needs nothing from
// the network: it can be opened offline, mailed, or attached to an issue.
func writeHTML(path string, r *load.Result) error {
	var b bytes.Buffer
	if err := renderHTML(&b, r); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// report is what htmlPage shows.
type report struct {
	Title, Summary string
	// Inline SVG, or "": the charts over time need two windows, the
	// histogram one operation.
	LatencyChart, RateChart, Histogram template.HTML
	Statuses                           []statusRow
	Notes                              []string
}

type statusRow struct {
	Status string
	Count  int64
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
svg { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 2px 10px; }
td.n { text-align: right; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
{{if .LatencyChart}}<h2>Latency over time</h2>
<p>p50, p90, p99 and max of each window, in ms.</p>
{{.LatencyChart}}
<h2>Throughput over time</h2>
<p>Operations completed per second, in each window.</p>
{{.RateChart}}
{{else}}<p>No charts over time: the run lasted less than two windows (--window).</p>
{{end}}{{if .Histogram}}<h2>Latency histogram</h2>
<p>Operations by latency (ms), in log-spaced buckets.</p>
{{.Histogram}}
{{end}}{{if .Statuses}}<h2>Statuses</h2>
<table><tr><th>status</th><th>count</th></tr>
{{range .Statuses}}<tr><td>{{.Status}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
{{end}}{{if .Notes}}<ul>
{{range .Notes}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</body>
</html>
`))

// renderHTML writes the report page of r to w.
func renderHTML(w io.Writer, r *load.Result) error {
	rep := report{
		Title: fmt.Sprintf("loadtest %s → %s", r.Scenario, r.URL),
		Summary: fmt.Sprintf("%d ops, %d errors, %.0f ops/s; p50 %.3f ms, p99 %.3f ms, max %.3f ms",
			r.Requests, r.Errors, r.Throughput, r.Latency.P50, r.Latency.P99, r.Latency.Max),
		Notes: append([]string(nil), r.Notes...),
	}
	if s := r.Storm; s != nil {
		rep.Summary = fmt.Sprintf("%d clients (%s): recovered %d, failed %d, all recovered in %.1f ms; %d requests, %d wasted, 404s per client %d–%d",
			s.Clients, s.Policy, s.Recovered, s.Failures, s.RecoveryMs, s.Requests, s.Wasted, s.NotFoundMin, s.NotFoundMax)
	}
	if f := r.Fleet; f != nil {
		rep.Summary = fmt.Sprintf("%s, %d nodes, %d clients: %d calls, %d ok, %d re-initializations, %d 404s, %d failed, %d lost in flight; p50 %.1f ms, p99 %.1f ms; recovered in %.1f ms",
			f.Event, f.Nodes, f.Clients, f.Calls, f.OK, f.Reinits, f.NotFound, f.Failed, f.Lost, r.Latency.P50, r.Latency.P99, f.RecoverMs)
		for _, t := range f.Targets {
			met := "met"
			if !t.Met {
				met = "NOT met"
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("target: %s %s (want %s): %s", t.Name, t.Got, t.Want, met))
		}
	}
	if g := r.GetKill; g != nil {
		rep.Summary = fmt.Sprintf("%d nodes, %d GET streams, %d broadcasts at %.0f/s: %.0f events/s delivered before the kill (%.0f expected); %d lost, %d duplicated; %d streams broke, %d resumed (p50 %.1f ms, p99 %.1f ms), %d 409s",
			g.Nodes, g.Opened, g.Broadcasts, g.Rate, g.SteadyEvents, g.SteadyExpected, g.Lost, g.Duplicated, g.Breaks, g.Resumed, g.ResumeP50Ms, g.ResumeP99Ms, g.Conflicts)
		for _, t := range g.Targets {
			met := "met"
			if !t.Met {
				met = "NOT met"
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("target: %s %s (want %s): %s", t.Name, t.Got, t.Want, met))
		}
	}
	for _, k := range load.SortedKeys(r.Statuses) {
		rep.Statuses = append(rep.Statuses, statusRow{k, r.Statuses[k]})
	}
	if len(r.Windows) >= 2 {
		var err error
		if rep.LatencyChart, rep.RateChart, err = timeCharts(r.Windows); err != nil {
			return fmt.Errorf("html report: charts over time: %w", err)
		}
	}
	if len(r.Buckets) > 0 {
		svg, err := histogramChart(r.Buckets)
		if err != nil {
			return fmt.Errorf("html report: histogram: %w", err)
		}
		rep.Histogram = svg
	}
	return htmlPage.Execute(w, rep)
}

// timeCharts draws, as SVG, the latency percentiles of each window (ms)
// and, below, the operations per second of each window.
func timeCharts(ws []load.Window) (latency, rate template.HTML, err error) {
	xs := make([]float64, len(ws))
	var p50, p90, p99, mx, rs []float64
	var maxMs, maxRate float64
	for i, w := range ws {
		xs[i] = w.T
		p50, p90, p99, mx = append(p50, w.P50), append(p90, w.P90), append(p99, w.P99), append(mx, w.Max)
		rs = append(rs, w.Rate)
		maxMs, maxRate = max(maxMs, w.Max), max(maxRate, w.Rate)
	}
	line := func(name string, ys []float64, hex string) chart.Series {
		return chart.ContinuousSeries{Name: name, XValues: xs, YValues: ys,
			Style: chart.Style{StrokeColor: drawing.ColorFromHex(hex), StrokeWidth: 2}}
	}
	_, xTicks := axis(0, xs[len(xs)-1])
	_, msTicks := axis(0, maxMs)
	_, rateTicks := axis(0, maxRate)
	lat := chart.Chart{
		Width: 1100, Height: 440,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 10}},
		XAxis:      chart.XAxis{Name: "seconds since the start", Ticks: xTicks},
		YAxis:      chart.YAxis{Name: "latency ms", Ticks: msTicks},
		Series: []chart.Series{
			line("p50", p50, "2b8a3e"),
			line("p90", p90, "1c7ed6"),
			line("p99", p99, "e67700"),
			line("max", mx, "c92a2a"),
		},
	}
	lat.Elements = []chart.Renderable{chart.LegendThin(&lat)}
	if latency, err = renderSVG(lat.Render); err != nil {
		return "", "", err
	}
	thr := chart.Chart{
		Width: 1100, Height: 260,
		Background: chart.Style{Padding: chart.Box{Top: 20, Left: 20, Right: 20, Bottom: 10}},
		XAxis:      chart.XAxis{Name: "seconds since the start", Ticks: xTicks},
		YAxis:      chart.YAxis{Name: "ops/s", Ticks: rateTicks},
		Series:     []chart.Series{line("ops/s", rs, "495057")},
	}
	if rate, err = renderSVG(thr.Render); err != nil {
		return "", "", err
	}
	return latency, rate, nil
}

// histogramChart draws the latency buckets as SVG bars, one per bucket,
// with the bucket bounds (ms) on the x axis: about a dozen of them, so
// that the labels do not overlap. The buckets are log-spaced, so the
// axis is a log scale.
func histogramChart(bs []load.Bucket) (template.HTML, error) {
	n := len(bs)
	xs, ys := make([]float64, n), make([]float64, n)
	var maxCount float64
	for i, b := range bs {
		xs[i], ys[i] = float64(i), float64(b.Count)
		maxCount = max(maxCount, ys[i])
	}
	// Bar i spans [i-0.5, i+0.5]: a tick at each labelled edge.
	every := (n + 11) / 12
	var xTicks []chart.Tick
	for i := 0; i < n; i += every {
		xTicks = append(xTicks, chart.Tick{Value: float64(i) - 0.5, Label: fmtMs(bs[i].FromMs)})
	}
	xTicks = append(xTicks, chart.Tick{Value: float64(n) - 0.5, Label: fmtMs(bs[n-1].ToMs)})
	_, countTicks := axis(0, maxCount)
	blue := drawing.ColorFromHex("1c7ed6")
	graph := chart.Chart{
		Width: 1100, Height: 420,
		Background: chart.Style{Padding: chart.Box{Top: 30, Left: 20, Right: 20, Bottom: 10}},
		XAxis:      chart.XAxis{Name: "latency ms (log scale)", Ticks: xTicks},
		YAxis:      chart.YAxis{Name: "operations", Ticks: countTicks},
		Series: []chart.Series{chart.HistogramSeries{
			Name:        "operations",
			InnerSeries: chart.ContinuousSeries{XValues: xs, YValues: ys},
			Style:       chart.Style{FillColor: blue, StrokeColor: drawing.ColorWhite, StrokeWidth: 1},
		}},
	}
	return renderSVG(graph.Render)
}

// axis returns a range from lo to a round number at or above hi, and
// about five ticks at round steps (1, 2 or 5 × 10ⁿ) across it.
func axis(lo, hi float64) (chart.Range, []chart.Tick) {
	if hi <= lo {
		hi = lo + 1
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(m*step) <= 6.01 {
			step *= m
			break
		}
	}
	top := lo + math.Ceil((hi-lo)/step-0.02)*step // a point 2% of a step over the top is drawn just off it
	var ticks []chart.Tick
	for i := 0; lo+float64(i)*step <= top+step/2; i++ {
		v := lo + float64(i)*step
		ticks = append(ticks, chart.Tick{Value: v, Label: numFormat(v)})
	}
	return &chart.ContinuousRange{Min: lo, Max: top}, ticks
}

// renderSVG renders a go-chart chart as SVG, for inlining in the page.
func renderSVG(render func(chart.RendererProvider, io.Writer) error) (template.HTML, error) {
	var b bytes.Buffer
	if err := render(chart.SVG, &b); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // #nosec: go-chart's output, of our numbers and fixed names
}

// numFormat formats an axis tick: few digits, no exponent, no trailing
// zeros.
func numFormat(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
	}
	return fmt.Sprintf("%.3f", v)
}
