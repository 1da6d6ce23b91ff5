// Command report runs the benchmarks of package bench and writes
// RESULTS.md: a table with each figure for every server and the ratio
// mcpfiber/peer, the figures the project aims at with what was measured,
// the machine, the Go version and the date. The raw `go test -bench`
// output goes to RESULTS.txt, ready for benchstat.
//
// Usage (from bench/, as `make bench` does):
//
//	go run ./cmd/report [-benchtime 2s] [-count 5] [-full=true]
//	go run ./cmd/report -in RESULTS.txt   # rewrite RESULTS.md from saved output
//
// Ratios, not absolute numbers, are the claims: the machine is shared and
// noisy.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		benchtime = flag.String("benchtime", "2s", "-benchtime of the throughput benchmarks (Miss, Handshake, Call, SSE)")
		count     = flag.Int("count", 5, "passes over the benchmarks (the table shows medians)")
		full      = flag.Bool("full", true, "MCPFIBER_BENCH_FULL=1: storm of 10 000 clients, 1 000 SSE streams, 5 000 sessions for memory")
		in        = flag.String("in", "", "read `go test -bench` output from this file instead of running the benchmarks")
		out       = flag.String("out", "RESULTS.md", "the Markdown file to write")
		raw       = flag.String("raw", "RESULTS.txt", "where to save the raw benchmark output (when running them)")
		commit    = flag.String("commit", gitHead(), "the mcpfiber commit measured (default: git rev-parse --short HEAD)")
	)
	flag.Parse()

	var output []byte
	var commands []string
	if *in != "" {
		b, err := os.ReadFile(*in)
		if err != nil {
			return err
		}
		output = b
		for _, line := range strings.Split(string(b), "\n") {
			if c, ok := strings.CutPrefix(line, commandPrefix); ok {
				commands = append(commands, c)
			}
			if m, ok := strings.CutPrefix(line, measuredPrefix); ok {
				measured = m
			}
		}
		if len(commands) == 0 {
			commands = append(commands, "(read from "+*in+")")
		}
	} else {
		env := os.Environ()
		if *full {
			env = append(env, "MCPFIBER_BENCH_FULL=1")
		}
		// The throughput benchmarks run -count times as separate passes
		// over every server (rather than -count=N, which repeats each
		// sub-benchmark back to back), so that a burst of load from
		// elsewhere on the machine is spread over the servers instead of
		// landing on one.
		var runs [][]string
		for range max(*count, 1) {
			runs = append(runs, []string{"test", "-run", "^$", "-bench", "^Benchmark(Miss|Handshake|Call|SSE)$", "-benchmem", "-benchtime", *benchtime, "-count", "1", "."})
		}
		for range max(*count, 1) {
			runs = append(runs, []string{"test", "-run", "^$", "-bench", "^Benchmark(Storm|Memory)$", "-benchmem", "-benchtime", "1x", "-count", "1", "-timeout", "30m", "."})
		}
		var all bytes.Buffer
		for i, args := range runs {
			prefix := ""
			if *full {
				prefix = "MCPFIBER_BENCH_FULL=1 "
			}
			cmdline := prefix + "go " + strings.Join(quoteArgs(args), " ")
			if *count > 1 {
				cmdline += fmt.Sprintf(" (%d passes)", *count)
			}
			if i == 0 || i == len(runs)-1 {
				commands = append(commands, cmdline)
			}
			fmt.Fprintf(os.Stderr, "report: go %s\n", strings.Join(args, " "))
			cmd := exec.Command("go", args...)
			cmd.Env = env
			cmd.Stdout = io.MultiWriter(&all, os.Stderr)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
			}
		}
		var head bytes.Buffer
		fmt.Fprintf(&head, "%s%s\n", measuredPrefix, measured)
		for _, c := range commands {
			fmt.Fprintf(&head, "%s%s\n", commandPrefix, c)
		}
		output = append(head.Bytes(), all.Bytes()...)
		if err := os.WriteFile(*raw, output, 0o644); err != nil {
			return err
		}
	}
	results := parse(output)
	if len(results) == 0 {
		return errors.New("no benchmark results found")
	}
	var md bytes.Buffer
	writeReport(&md, results, *commit, commands, output)
	// The sections written by hand (before/after figures, other
	// benchmarks) follow handWritten in the old file: keep them.
	if old, err := os.ReadFile(*out); err == nil {
		if i := bytes.Index(old, []byte(handWritten)); i >= 0 {
			md.WriteString("\n")
			md.Write(old[i:])
		}
	}
	if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s\n", *out)
	return nil
}

// handWritten marks where RESULTS.md's hand-written sections begin: a
// report keeps everything from it on.
const handWritten = "<!-- Sections below are written by hand; make bench keeps them. -->"

// commandPrefix marks the lines of RESULTS.txt that record the commands
// run, so that -in can name them.
const commandPrefix = "# command: "

// measuredPrefix marks the line of RESULTS.txt that records when the
// benchmarks ran.
const measuredPrefix = "# measured: "

// measured is when the benchmarks ran (set from RESULTS.txt with -in).
var measured = time.Now().UTC().Format("2006-01-02 15:04 UTC")

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|()* ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// A result is one benchmark line: its group (the name without the
// server=… element), its server, and its metrics by unit.
type result struct {
	group, server string
	metrics       map[string]float64
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads `go test -bench` output.
func parse(out []byte) []result {
	var rs []result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var server string
		var rest []string
		for _, part := range strings.Split(m[1], "/") {
			if s, ok := strings.CutPrefix(part, "server="); ok {
				server = s
				continue
			}
			rest = append(rest, part)
		}
		if server == "" {
			continue
		}
		f := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			metrics[f[i+1]] = v
		}
		rs = append(rs, result{group: strings.TrimPrefix(strings.Join(rest, "/"), "Benchmark"), server: server, metrics: metrics})
	}
	return rs
}

var servers = []string{"floor", "mcpfiber", "gosdk", "mcpgo"}

// A table holds the samples of each (group, unit, server), in the order
// of the passes, and their median.
type table struct {
	groups  []string
	samples map[string]map[string]map[string][]float64 // group → unit → server → one per pass
	values  map[string]map[string]map[string]float64   // group → unit → server → median
	units   map[string][]string                        // group → units, in display order
}

func tabulate(rs []result) *table {
	samples := map[string]map[string]map[string][]float64{}
	t := &table{samples: samples, values: map[string]map[string]map[string]float64{}, units: map[string][]string{}}
	for _, r := range rs {
		if samples[r.group] == nil {
			samples[r.group] = map[string]map[string][]float64{}
			t.groups = append(t.groups, r.group)
		}
		for u, v := range r.metrics {
			if samples[r.group][u] == nil {
				samples[r.group][u] = map[string][]float64{}
			}
			samples[r.group][u][r.server] = append(samples[r.group][u][r.server], v)
		}
	}
	for g, byUnit := range samples {
		t.values[g] = map[string]map[string]float64{}
		for u, byServer := range byUnit {
			if !shown(g, u) {
				continue
			}
			t.units[g] = append(t.units[g], u)
			t.values[g][u] = map[string]float64{}
			for s, vs := range byServer {
				t.values[g][u][s] = median(vs)
			}
		}
		sort.Slice(t.units[g], func(i, j int) bool {
			a, b := t.units[g][i], t.units[g][j]
			if ra, rb := unitRank(a), unitRank(b); ra != rb {
				return ra < rb
			}
			return a < b
		})
	}
	return t
}

// shown says which metrics the table shows: for the storm and memory
// benchmarks, ns/op and the allocation counts are of the whole harness
// (establishing, restarting) and say nothing.
func shown(group, unit string) bool {
	if strings.HasPrefix(group, "Storm") || strings.HasPrefix(group, "Memory") {
		return !strings.HasSuffix(unit, "/op")
	}
	return true
}

func unitRank(u string) int {
	switch {
	case strings.HasSuffix(u, "/s"):
		return 0
	case u == "ns/op":
		return 1
	case u == "B/op":
		return 2
	case u == "allocs/op":
		return 3
	case u == "recovery-ms":
		return 4
	case strings.HasSuffix(u, "-ms"):
		return 5
	}
	return 6
}

// higherIsBetter says which way a unit points.
func higherIsBetter(u string) bool { return strings.HasSuffix(u, "/s") }

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func fmtVal(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// pairedRatio is the ratio of server a's figure to server b's: the median
// over the passes of each pass's a/b. Each pass runs the servers of a
// benchmark back to back, so pairing them by pass leaves out how the
// shared machine drifted between passes. lo and hi are the smallest and
// largest of the per-pass ratios. ok is false when no pass has both
// figures or b's is 0 in one.
func (t *table) pairedRatio(group, unit, a, b string) (med, lo, hi float64, ok bool) {
	as, bs := t.samples[group][unit][a], t.samples[group][unit][b]
	n := min(len(as), len(bs))
	if n == 0 {
		return 0, 0, 0, false
	}
	rs := make([]float64, n)
	for i := range n {
		if bs[i] == 0 {
			return 0, 0, 0, false
		}
		rs[i] = as[i] / bs[i]
	}
	return median(rs), slices.Min(rs), slices.Max(rs), true
}

// ratioCell formats the ratio of server a's figure to server b's for the
// table of all figures: paired by pass (pairedRatio), or "=" and "∞"
// where b's figure is 0.
func (t *table) ratioCell(group, unit, a, b string) string {
	vs := t.values[group][unit]
	va, ok1 := vs[a]
	vb, ok2 := vs[b]
	if r, _, _, ok := t.pairedRatio(group, unit, a, b); ok {
		return fmt.Sprintf("%.2f×", r)
	}
	return ratio(va, vb, ok1, ok2)
}

func ratio(a, b float64, ok1, ok2 bool) string {
	switch {
	case !ok1 || !ok2:
		return "—"
	case b == 0 && a == 0:
		return "="
	case b == 0:
		return "∞"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func writeReport(w io.Writer, rs []result, commit string, commands []string, raw []byte) {
	t := tabulate(rs)
	fmt.Fprintf(w, "# Benchmark results: mcpfiber and its peers\n\n")
	fmt.Fprintf(w, "Generated by `make bench` (`bench/cmd/report`), measured %s", measured)
	if commit != "" {
		fmt.Fprintf(w, ", mcpfiber at commit %s", commit)
	}
	fmt.Fprintf(w, ".\n\n")
	fmt.Fprintf(w, "- Machine: %s, %d CPUs (nproc), %s/%s; shared with other work while measured, so absolute numbers are noisy. **Ratios, not absolute numbers, are the claims.**\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "- Go: %s\n", goVersion(raw))
	fmt.Fprintf(w, "- Peers: github.com/modelcontextprotocol/go-sdk %s (StreamableHTTPHandler), github.com/mark3labs/mcp-go %s (StreamableHTTPServer, WithStateful(true)); floor: a bare fasthttp handler that only answers 404. Each serves the same echo tool over loopback HTTP; see bench/servers.go for how each is set up.\n",
		modVersion("github.com/modelcontextprotocol/go-sdk"), modVersion("github.com/mark3labs/mcp-go"))
	fmt.Fprintf(w, "- Commands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  - `%s`\n", c)
	}
	fmt.Fprintf(w, "- Throughput benchmarks run client and server in one process on the same cores (%d client goroutines per CPU); their B/op and allocs/op count **both** sides. Storm and memory run the server in a child process; memory is the growth of live heap + goroutine stacks in that process after two GCs.\n", 8)
	fmt.Fprintf(w, "- Ratios are mcpfiber's figure divided by the peer's. For rates (…/s) higher is better, so >1× means mcpfiber is ahead; for times, bytes, allocations and wasted requests lower is better, so <1× means mcpfiber is ahead.\n")
	fmt.Fprintf(w, "- Each pass runs the servers of a benchmark back to back, so a ratio is taken within each pass and the table shows the median of those (the figures aimed at also show their range over the passes); the columns of figures are each server's median.\n\n")

	writeFigures(w, t)

	fmt.Fprintf(w, "## All figures (medians)\n\n")
	fmt.Fprintln(w, "| benchmark | metric | better | floor | mcpfiber | gosdk | mcpgo | mcpfiber/gosdk | mcpfiber/mcpgo | mcpfiber/floor |")
	fmt.Fprintln(w, "|---|---|:-:|--:|--:|--:|--:|--:|--:|--:|")
	for _, g := range t.groups {
		for _, u := range t.units[g] {
			vs := t.values[g][u]
			better := "↓"
			if higherIsBetter(u) {
				better = "↑"
			}
			cells := make([]string, len(servers))
			for i, s := range servers {
				if v, ok := vs[s]; ok {
					cells[i] = fmtVal(v)
				} else {
					cells[i] = "—"
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", g, u, better, strings.Join(cells, " | "),
				t.ratioCell(g, u, "mcpfiber", "gosdk"), t.ratioCell(g, u, "mcpfiber", "mcpgo"), t.ratioCell(g, u, "mcpfiber", "floor"))
		}
	}
	fmt.Fprintf(w, "\nNot measured: mcp-go GET and DELETE with an unknown session (its GET opens a stream for any ID and its DELETE answers 200, so there is no 404 to time). The raw `go test` output is in RESULTS.txt (`benchstat -col /server RESULTS.txt`).\n")
}

// writeFigures checks the figures the project aims at (issue #4).
func writeFigures(w io.Writer, t *table) {
	get := func(group, unit, server string) (float64, bool) {
		v, ok := t.values[group][unit][server]
		return v, ok
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	fmt.Fprintf(w, "## Figures aimed at\n\n| figure | target | measured | verdict |\n|---|---|---|---|\n")
	for _, m := range []string{"POST", "GET", "DELETE"} {
		g := "Miss/method=" + m
		mf, ok1 := get(g, "req/s", "mcpfiber")
		fl, ok2 := get(g, "req/s", "floor")
		al, ok3 := get(g, "allocs/op", "mcpfiber")
		r, lo, hi, ok4 := t.pairedRatio(g, "req/s", "mcpfiber", "floor")
		if ok1 && ok2 && ok3 && ok4 {
			fmt.Fprintf(w, "| miss %s | ≥0.90× floor, 0 allocs/op | %.2f× floor (passes %.2f–%.2f; medians %s vs %s req/s), %s allocs/op (client and server) | %s |\n",
				m, r, lo, hi, fmtVal(mf), fmtVal(fl), fmtVal(al), verdict(r >= 0.9 && al == 0))
		}
	}
	for _, g := range []string{"Handshake", "Call/mode=json", "Call/mode=sse"} {
		unit := "calls/s"
		if g == "Handshake" {
			unit = "handshakes/s"
		}
		gs, glo, ghi, ok1 := t.pairedRatio(g, unit, "mcpfiber", "gosdk")
		mg, mlo, mhi, ok2 := t.pairedRatio(g, unit, "mcpfiber", "mcpgo")
		if ok1 && ok2 {
			fmt.Fprintf(w, "| %s | ≥3× gosdk, ahead of mcpgo | %.2f× gosdk (passes %.2f–%.2f), %.2f× mcpgo (%.2f–%.2f) | %s |\n",
				strings.ToLower(g), gs, glo, ghi, mg, mlo, mhi, verdict(gs >= 3 && mg > 1))
		}
	}
	for _, g := range t.groups {
		if !strings.HasPrefix(g, "Storm/") {
			continue
		}
		n := strings.TrimPrefix(g, "Storm/clients=")
		mf, ok1 := get(g, "recovery-ms", "mcpfiber")
		gs, ok2 := get(g, "recovery-ms", "gosdk")
		faster, flo, fhi, ok3 := t.pairedRatio(g, "recovery-ms", "gosdk", "mcpfiber")
		lo, _ := get(g, "404-per-client-min", "mcpfiber")
		hi, _ := get(g, "404-per-client-max", "mcpfiber")
		wasted, _ := get(g, "wasted-req", "mcpfiber")
		fails, _ := get(g, "failures", "mcpfiber")
		clients, _ := strconv.ParseFloat(n, 64)
		if ok1 && ok2 && ok3 {
			target := "recovered ≥5× faster than gosdk, exactly one 404 per client, nothing else wasted"
			v := verdict(faster >= 5 && lo == 1 && hi == 1 && wasted == clients && fails == 0)
			if n != "10000" {
				target = "none: 10 000 clients is the target size"
				v = "(reference)"
			}
			fmt.Fprintf(w, "| storm %s clients | %s | %.2f× faster (passes %.2f–%.2f; medians %.1f ms vs gosdk %.1f ms); 404s per client %.0f–%.0f; wasted %.0f for %.0f clients; failures %.0f | %s |\n",
				n, target, faster, flo, fhi, mf, gs, lo, hi, wasted, clients, fails, v)
		}
	}
	for _, g := range t.groups {
		if !strings.HasPrefix(g, "Memory/") {
			continue
		}
		s, ok1 := get(g, "B/idle-session", "mcpfiber")
		st, ok2 := get(g, "B/sse-stream", "mcpfiber")
		gs, _ := get(g, "B/idle-session", "gosdk")
		gst, _ := get(g, "B/sse-stream", "gosdk")
		mg, _ := get(g, "B/idle-session", "mcpgo")
		mgst, _ := get(g, "B/sse-stream", "mcpgo")
		if ok1 {
			fmt.Fprintf(w, "| memory per idle session | ≤2048 B | %.0f B (gosdk %.0f B, mcpgo %.0f B) | %s |\n", s, gs, mg, verdict(s <= 2048))
		}
		if ok2 {
			fmt.Fprintf(w, "| memory per open SSE stream | ≤8192 B | %.0f B (gosdk %.0f B, mcpgo %.0f B) | %s |\n", st, gst, mgst, verdict(st <= 8192))
		}
	}
	fmt.Fprintln(w)
}

func gitHead() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func goVersion(raw []byte) string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

func modVersion(path string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
