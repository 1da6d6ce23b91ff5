package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/components"
	"github.com/go-echarts/go-echarts/v2/opts"

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

func timeSeconds(d load.Duration) float64 { return float64(d) / 1e9 }

// writeHTML writes a page with the latency over time (p50, p90, p99, max
// per window, and the throughput) and the latency histogram.
func writeHTML(path string, r *load.Result) error {
	page := components.NewPage()
	page.SetPageTitle("loadtest " + r.Scenario)

	title := fmt.Sprintf("loadtest %s → %s", r.Scenario, r.URL)
	sub := fmt.Sprintf("%d ops, %d errors, %.0f ops/s; p50 %.3f ms, p99 %.3f ms, max %.3f ms",
		r.Requests, r.Errors, r.Throughput, r.Latency.P50, r.Latency.P99, r.Latency.Max)
	if s := r.Storm; s != nil {
		sub = fmt.Sprintf("%d clients (%s): recovered %d, failures %d, recovery %.1f ms, wasted %d, 404s per client %d–%d",
			s.Clients, s.Policy, s.Recovered, s.Failures, s.RecoveryMs, s.Wasted, s.NotFoundMin, s.NotFoundMax)
	}

	if len(r.Windows) > 0 {
		line := charts.NewLine()
		line.SetGlobalOptions(
			charts.WithTitleOpts(opts.Title{Title: title, Subtitle: sub}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50"}),
			charts.WithXAxisOpts(opts.XAxis{Name: "s", Type: "category"}),
			charts.WithYAxisOpts(opts.YAxis{Name: "latency ms", Type: "value"}),
			charts.WithInitializationOpts(opts.Initialization{Width: "1100px", Height: "480px"}),
			charts.WithDataZoomOpts(opts.DataZoom{Type: "slider"}),
		)
		line.ExtendYAxis(opts.YAxis{Name: "ops/s", Type: "value", Position: "right"})
		xs := make([]string, len(r.Windows))
		series := map[string][]opts.LineData{}
		for i, w := range r.Windows {
			xs[i] = fmt.Sprintf("%.1f", w.T)
			series["p50"] = append(series["p50"], opts.LineData{Value: w.P50})
			series["p90"] = append(series["p90"], opts.LineData{Value: w.P90})
			series["p99"] = append(series["p99"], opts.LineData{Value: w.P99})
			series["max"] = append(series["max"], opts.LineData{Value: w.Max})
			series["ops/s"] = append(series["ops/s"], opts.LineData{Value: w.Rate, YAxisIndex: 1})
		}
		line.SetXAxis(xs)
		for _, name := range []string{"p50", "p90", "p99", "max"} {
			line.AddSeries(name, series[name])
		}
		line.AddSeries("ops/s", series["ops/s"], charts.WithLineChartOpts(opts.LineChart{YAxisIndex: 1}))
		page.AddCharts(line)
	}

	if len(r.Buckets) > 0 {
		bar := charts.NewBar()
		htitle := "latency histogram"
		if len(r.Windows) == 0 {
			htitle = title + ": " + htitle
		}
		bar.SetGlobalOptions(
			charts.WithTitleOpts(opts.Title{Title: htitle, Subtitle: sub}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithXAxisOpts(opts.XAxis{Name: "ms", Type: "category"}),
			charts.WithYAxisOpts(opts.YAxis{Name: "count", Type: "value"}),
			charts.WithInitializationOpts(opts.Initialization{Width: "1100px", Height: "420px"}),
		)
		xs := make([]string, len(r.Buckets))
		ys := make([]opts.BarData, len(r.Buckets))
		for i, b := range r.Buckets {
			xs[i] = fmt.Sprintf("%s–%s", fmtMs(b.FromMs), fmtMs(b.ToMs))
			ys[i] = opts.BarData{Value: b.Count}
		}
		bar.SetXAxis(xs).AddSeries("operations", ys)
		page.AddCharts(bar)
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := page.Render(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
