// Command loadtest load-tests an MCP Streamable HTTP server.
//
// Usage:
//
//	go run ./loadtest [flags] <scenario>
//
//	go run ./loadtest miss --duration 5s
//	go run ./loadtest call --mode json --rate 2000 --duration 30s --html call.html
//	go run ./loadtest storm --clients 10000 --server-cmd 'bin/mcpfiber --addr 127.0.0.1:8080'
//	go run ./loadtest churn --rate 200 --duration 1m --pid $(pgrep -n mcpfiber)
//	go run ./loadtest rolling --clients 10000 --url http://127.0.0.1:8081/mcp,http://127.0.0.1:8082/mcp,http://127.0.0.1:8083/mcp \
//		--server-cmd 'bin/mcpfiber --addr 127.0.0.1:{port} --redis-url redis://127.0.0.1:6379'
//
// It targets any Streamable HTTP MCP server by URL (--url, default
// http://127.0.0.1:8080/mcp). It sends load wherever it is told, but warns
// on stderr first when the host is not a loopback address. With several
// URLs (--url repeated, or a comma-separated list) the requests are
// spread over them as a round-robin load balancer would: each request
// goes to the next node, so that a session's requests land on every node
// in turn, and a request a node refuses (it is down) goes to the next.
// --server-cmd then starts one server per URL, with {addr}, {host} and
// {port} replaced by the URL's.
//
// Scenarios:
//
//	miss       POST/GET/DELETE with an unknown session ID; each should get 404
//	handshake  initialize + notifications/initialized + DELETE
//	call       tools/call echo in established sessions (one per worker); --mode json|sse|both
//	sse        open --streams GET streams (one session each) and hold them for --duration
//	storm      --clients sessions, all lost at once (a DELETE each, or a restart of
//	           --server-cmd), then every client sends its stale ID at the same moment
//	           and recovers: 404 → initialize → retry (--naive: resend the stale ID on
//	           other failures). Reports recovery time, wasted requests, 404s per client.
//	churn      handshake + DELETE at a fixed --rate (default 100/s); with --pid and
//	           --metrics-url, samples server RSS, threads and goroutines each second
//	modern     2026-07-28 stateless tools/call (no session; protocol version in _meta
//	           and MCP-Protocol-Version). A server that does not serve that revision
//	           answers 400 with -32022 (UnsupportedProtocolVersion), counted as such.
//	rolling    --clients sessions over the --url nodes call echo at --rate (default
//	           1000/s) while the --server-cmd nodes are restarted one by one (SIGTERM,
//	           exit, start, /healthz 200); then one final call each. Reports
//	           re-initializations, 404s, failed calls, p50/p99 through the event, time
//	           to recover, and whether issue #10's targets were met (0, 0, 0).
//	kill       the same, but one node is killed (SIGKILL), left down for --duration
//	           and started again; calls in flight on it are counted apart (lost in
//	           flight); reports each client's next call after the kill (target: all
//	           succeed, p99 < 1 s) and re-initializations (target: 0).
//	getkill    issue #11: --streams sessions, each with a GET stream open on a node
//	           (round robin), get numbered broadcasts at --rate (tools/call
//	           broadcast of --catalog loadtest on a node that survives); after
//	           --warmup and --duration, node --victim is killed (SIGKILL) and each
//	           stream that broke resumes on the next node with Last-Event-ID (retries
//	           on 409/503/refused, with backoff); --duration later the broadcasts
//	           stop and each stream is checked: every broadcast from the first it saw,
//	           once, in order. Reports lost/duplicated events, 409s, time to resume
//	           (p50/p99) and the events/s delivered before the kill. With one --url
//	           there is no kill: the baseline of one node.
//
// The rolling and kill calls run for --duration before the event and as
// long after it. Their exit status is 1 when a target was missed, as is
// getkill's.
//
// --server-cmd may name {redis}: a redis-server of the run's own is
// started first (on a free port of 127.0.0.1, no persistence, in a
// temporary directory), and {redis} is replaced by its URL:
//
//	go run ./loadtest getkill --streams 1000 --rate 40 \
//		--url http://127.0.0.1:8081/mcp,http://127.0.0.1:8082/mcp,http://127.0.0.1:8083/mcp \
//		--server-cmd 'bin/mcpfiber --addr 127.0.0.1:{port} --catalog loadtest --redis-url {redis}'
//
// Pacing: with --rate > 0 the run is open-loop (operation i is due at
// i/rate and its latency is measured from then, so a stalled server cannot
// hide its stall: no coordinated omission); with --rate 0 it is
// closed-loop with --concurrency workers. A run stops by itself after
// --count operations or --duration, whichever comes first; Ctrl-C stops it
// early and prints the partial results.
//
// Output: a progress bar on stderr (when it is a terminal), then on stdout
// JSON lines (one per time window, then the summary) and a Markdown table
// (--format selects them), and with --html an HTML report with charts
// of the latency and throughput over time and a latency histogram, as
// inline SVG: the page loads nothing from the network.
//
// HTTP client: fasthttp's (see package load): it allocates nothing per
// request, so on a small machine shared with the server the generator
// takes as little CPU from it as possible. GET streams use net/http's
// response parser over a connection each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// scenarios lists the scenarios, with a line each for the usage text.
var scenarios = []struct{ name, help string }{
	{"miss", "POST/GET/DELETE with an unknown session ID; each should get 404 (--methods)"},
	{"handshake", "initialize + notifications/initialized + DELETE: one session's life per operation"},
	{"call", "tools/call echo in established sessions, one per worker (--mode json|sse|both)"},
	{"sse", "open --streams GET streams (one session each) and hold them for --duration"},
	{"storm", "--clients sessions lost at once (DELETE, or --server-cmd restarted); all recover at once"},
	{"churn", "handshake + DELETE at a fixed --rate (default 100/s); samples the server with --pid, --metrics-url"},
	{"modern", "2026-07-28 stateless tools/call (no session); 400 -32022 if the server does not serve it"},
	{"rolling", "--clients sessions over the --url nodes call echo at --rate while --server-cmd nodes restart one by one (SIGTERM)"},
	{"kill", "the same, but one node of the --url nodes is killed (SIGKILL) and started again"},
	{"getkill", "--streams GET streams over the --url nodes get numbered broadcasts at --rate (--catalog loadtest); node --victim is killed (SIGKILL), the streams resume elsewhere with Last-Event-ID; reports lost/duplicated events, time to resume, events/s"},
}

// fleetScenario reports whether scenario runs a [load.Fleet].
func fleetScenario(scenario string) bool { return scenario == "rolling" || scenario == "kill" }

// nodesScenario reports whether scenario starts and stops the servers
// itself (--server-cmd required): the fleet scenarios and getkill.
func nodesScenario(scenario string) bool { return fleetScenario(scenario) || scenario == "getkill" }

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// config is the parsed command line.
type config struct {
	scenario    string
	url         string   // the first of urls
	urls        []string // the nodes
	rate        float64
	concurrency int
	conns       int
	count       int64
	duration    time.Duration
	timeout     time.Duration
	window      time.Duration
	mode        string
	methods     []string
	streams     int
	clients     int
	naive       bool
	naiveTries  int
	serverCmd   string
	redisServer string
	redisURL    string // the URL of the redis-server the run started for {redis}
	warmup      time.Duration
	signal      string
	healthz     string
	victim      int
	pid         int
	metricsURL  string
	html        string
	format      string
	progress    bool
	version     string
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var methods string
	fs.Var((*urlList)(&c.urls), "url", "the server's MCP endpoint `URL` (default http://127.0.0.1:8080/mcp); repeat it, or give a comma-separated list, to spread the requests over several nodes round robin")
	fs.Float64Var(&c.rate, "rate", 0, "open-loop rate in operations/s (0: closed loop; churn defaults to 100, rolling and kill to 1000; getkill: broadcasts/s, default 40)")
	fs.IntVar(&c.concurrency, "concurrency", 16, "workers: closed-loop concurrency, or the bound on operations in flight in open loop")
	fs.IntVar(&c.conns, "conns", 0, "max TCP connections to each server (0: max(concurrency, 64), storm: 512)")
	fs.Int64Var(&c.count, "count", 0, "stop after this many operations (0: no bound)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "stop after this long (sse: how long the streams are held; rolling, kill: how long the calls run before the event and after it, and how long kill leaves its node down; getkill: the steady window before the kill, and how long the broadcasts go on after it)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "getkill: how long the broadcasts run before the steady window")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.DurationVar(&c.window, "window", time.Second, "width of the latency-over-time windows")
	fs.StringVar(&c.mode, "mode", "both", "call: the Accept the client sends: json (application/json), sse (text/event-stream) or both (what the spec requires; the server then chooses)")
	fs.StringVar(&methods, "methods", "POST,GET,DELETE", "miss: the methods to rotate through")
	fs.IntVar(&c.streams, "streams", 100, "sse, getkill: the number of GET streams (one session each)")
	fs.IntVar(&c.clients, "clients", 100, "storm, rolling, kill: the number of clients")
	fs.BoolVar(&c.naive, "naive", false, "storm: clients resend their stale ID on failures other than 404, and never back off")
	fs.IntVar(&c.naiveTries, "naive-retries", 3, "storm --naive: resends of a stale ID before starting over")
	fs.StringVar(&c.serverCmd, "server-cmd", "", "start this server (sh -c) before the run and stop it after; storm restarts it to lose the sessions. It must listen on --url's host:port; with several --url, one server per URL, {addr}, {host} and {port} replaced by the URL's; {redis} is replaced by the URL of a redis-server the run starts first")
	fs.StringVar(&c.redisServer, "redis-server", "redis-server", "the redis-server binary run when --server-cmd names {redis}")
	fs.StringVar(&c.signal, "signal", "KILL", "storm: signal that stops --server-cmd: KILL (a crash) or TERM (a graceful shutdown)")
	fs.StringVar(&c.healthz, "healthz", "/healthz", "path on each --url's host that answers 200 when a started server is ready (empty: wait for the port only)")
	fs.IntVar(&c.victim, "victim", 0, "kill, getkill: the node to kill, an index into the --url list (getkill: -1 kills none)")
	fs.IntVar(&c.pid, "pid", 0, "sample this server process's RSS and threads from /proc each second (default: the --server-cmd process)")
	fs.StringVar(&c.metricsURL, "metrics-url", "", "sample goroutines each second from this URL (Prometheus go_goroutines, or /debug/pprof/goroutine?debug=1)")
	fs.StringVar(&c.html, "html", "", "write an HTML report (latency over time, histogram) to this file")
	fs.StringVar(&c.format, "format", "both", "stdout: json (JSON lines), markdown, or both")
	fs.BoolVar(&c.progress, "progress", isatty.IsTerminal(os.Stderr.Fd()), "show a progress bar on stderr")
	fs.StringVar(&c.version, "protocol-version", load.DefaultProtocolVersion, "protocol version requested at initialize")
	fs.Usage = func() {
		var b strings.Builder
		b.WriteString("Usage: loadtest [flags] <scenario>\n\nScenarios:\n")
		for _, s := range scenarios {
			fmt.Fprintf(&b, "  %-10s %s\n", s.name, s.help)
		}
		b.WriteString("\nExamples:\n  loadtest miss --duration 5s\n  loadtest call --mode json --rate 2000 --html call.html\n" +
			"  loadtest storm --clients 10000 --server-cmd 'bin/mcpfiber --addr 127.0.0.1:8080'\n" +
			"  loadtest rolling --clients 10000 --url http://127.0.0.1:8081/mcp,http://127.0.0.1:8082/mcp,http://127.0.0.1:8083/mcp \\\n" +
			"    --server-cmd 'bin/mcpfiber --addr 127.0.0.1:{port} --redis-url redis://127.0.0.1:6379'\n" +
			"  loadtest getkill --streams 1000 --rate 40 --url http://127.0.0.1:8081/mcp,http://127.0.0.1:8082/mcp,http://127.0.0.1:8083/mcp \\\n" +
			"    --server-cmd 'bin/mcpfiber --addr 127.0.0.1:{port} --catalog loadtest --redis-url {redis}'\n\nFlags:\n")
		fmt.Fprint(fs.Output(), b.String())
		fs.PrintDefaults()
	}
	// The scenario may come anywhere among the flags.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	if len(positional) > 1 {
		return nil, fmt.Errorf("unexpected arguments %q", positional[1:])
	}
	if len(positional) == 1 {
		c.scenario = positional[0]
	}
	if c.scenario == "" {
		fs.Usage()
		return nil, errors.New("no scenario given")
	}
	if !slices.Contains(scenarioNames(), c.scenario) {
		return nil, fmt.Errorf("unknown scenario %q (want one of %s; -h describes them)", c.scenario, strings.Join(scenarioNames(), ", "))
	}
	for _, m := range strings.Split(methods, ",") {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			if m != "POST" && m != "GET" && m != "DELETE" {
				return nil, fmt.Errorf("--methods: %q is not POST, GET or DELETE", m)
			}
			c.methods = append(c.methods, m)
		}
	}
	if len(c.methods) == 0 {
		return nil, errors.New("--methods: none given")
	}
	switch c.mode {
	case "json", "sse", "both":
	default:
		return nil, fmt.Errorf("--mode %q: want json, sse or both", c.mode)
	}
	switch c.format {
	case "json", "markdown", "both":
	default:
		return nil, fmt.Errorf("--format %q: want json, markdown or both", c.format)
	}
	if c.signal != "KILL" && c.signal != "TERM" {
		return nil, fmt.Errorf("--signal %q: want KILL or TERM", c.signal)
	}
	if c.rate < 0 || c.concurrency <= 0 || c.count < 0 || c.duration < 0 || c.warmup < 0 || c.clients <= 0 || c.streams <= 0 {
		return nil, errors.New("--rate, --count and --duration must not be negative; --concurrency, --clients and --streams must be positive")
	}
	if c.scenario == "churn" && c.rate == 0 {
		c.rate = 100
	}
	if len(c.urls) == 0 {
		c.urls = []string{defaultURL}
	}
	c.url = c.urls[0]
	if c.serverCmd != "" && len(c.urls) > 1 && !hasPlaceholder(c.serverCmd) {
		return nil, fmt.Errorf("--server-cmd: with %d --url, it needs {addr}, {host} or {port} so that each server listens on its own", len(c.urls))
	}
	if nodesScenario(c.scenario) {
		if c.serverCmd == "" {
			return nil, fmt.Errorf("%s: --server-cmd is required: the scenario restarts the servers", c.scenario)
		}
		if c.rate == 0 {
			c.rate = 1000
			if c.scenario == "getkill" {
				c.rate = 40
			}
		}
		if c.victim < 0 && (c.victim != -1 || c.scenario != "getkill") || c.victim >= len(c.urls) {
			return nil, fmt.Errorf("--victim %d: want an index into the %d --url (getkill: or -1, no kill)", c.victim, len(c.urls))
		}
	}
	if c.conns <= 0 {
		c.conns = max(c.concurrency, 64)
		if c.scenario == "storm" {
			c.conns = 512
		}
	}
	return c, nil
}

// progressHook, if set (by tests), is given the run's count of completed
// operations when the run starts.
var progressHook func(done *atomic.Int64)

// run runs the command with args, writing results to stdout and the
// progress bar and diagnostics to stderr. It returns the result it
// printed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*load.Result, error) {
	c, err := parse(args, stderr)
	if err != nil {
		return nil, err
	}
	client, err := load.NewBalancedClient(c.urls, &load.Options{MaxConns: c.conns, Timeout: c.timeout, ProtocolVersion: c.version})
	if err != nil {
		return nil, err
	}
	for _, u := range c.urls {
		warnOffHost(stderr, u)
	}

	redis, err := startRedis(ctx, c)
	defer redis.stop()
	if err != nil {
		return nil, err
	}
	nodes, err := startNodes(ctx, c, client, stderr)
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	if err != nil {
		return nil, err
	}
	if err := client.Check(ctx, min(c.timeout, checkTimeout)); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if len(c.urls) > 1 {
			return nil, fmt.Errorf("a node is not answering: %w", err)
		}
		return nil, fmt.Errorf("%s is not answering: %w", c.url, err)
	}
	pid := func() int { return c.pid }
	if c.pid == 0 && len(nodes) > 0 {
		pid = nodes[0].Pid // the current process: storm, rolling and kill restart it
	}
	sampler := &load.Sampler{Pid: pid, MetricsURL: c.metricsURL, Start: time.Now()}
	sampling := pid() > 0 || c.metricsURL != ""

	var done atomic.Int64
	if progressHook != nil {
		progressHook(&done)
	}
	bar := newBar(c, stderr, &done)
	var res load.Result
	switch c.scenario {
	case "storm":
		if sampling {
			sampler.Sample(ctx)
		}
		res, err = runStorm(ctx, c, client, nodes, &done)
	case "rolling", "kill":
		sctx, cancel := context.WithCancel(ctx)
		if sampling {
			sampler.Sample(ctx)
			go sampler.Every(sctx, time.Second) // owner: run; exit: cancel below
		}
		res, err = runFleet(ctx, c, client, nodes, &done)
		cancel()
	case "getkill":
		g := &load.GetKill{
			Client: client, Nodes: nodes, Victim: c.victim, Streams: c.streams, Rate: c.rate,
			Warmup: c.warmup, Steady: c.duration, Concurrency: c.concurrency, Window: c.window, Progress: &done,
		}
		res, err = g.Run(ctx)
	case "sse":
		h := &load.Hold{Client: client, Streams: c.streams, Concurrency: c.concurrency, For: c.duration, Progress: &done, Delete: true}
		if sampling {
			h.Sample = func() { sampler.Sample(ctx) }
		}
		res = h.Run(ctx)
	default:
		var op load.Op
		var cleanup func()
		op, cleanup, err = newOp(ctx, c, client)
		if err != nil {
			bar.stop()
			return nil, err
		}
		sctx, cancel := context.WithCancel(ctx)
		if sampling {
			sampler.Sample(ctx)
			go sampler.Every(sctx, time.Second) // owner: run; exit: cancel below
		}
		res = load.Run(ctx, load.Loop{
			Rate: c.rate, Concurrency: c.concurrency, Count: c.count, Duration: c.duration,
			Window: c.window, Done: &done,
		}, op)
		cancel()
		if cleanup != nil && ctx.Err() == nil {
			cleanup()
		}
	}
	bar.stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if sampling {
		sampler.Sample(context.Background())
		res.Proc = sampler.Samples()
	}
	res.Scenario = c.scenario
	res.URL = strings.Join(c.urls, ",")
	res.Interrupted = res.Interrupted || ctx.Err() != nil
	res.Notes = append(res.Notes, notes(c, &res)...)
	if err := writeResults(stdout, c, &res); err != nil {
		return &res, err
	}
	if c.html != "" {
		if err := writeHTML(c.html, &res); err != nil {
			return &res, err
		}
		fmt.Fprintf(stderr, "loadtest: wrote %s\n", c.html)
	}
	if res.Requests > 0 && res.OK == 0 {
		return &res, fmt.Errorf("every operation failed (%d of %d): see the statuses above", res.Errors, res.Requests)
	}
	var missed []load.Target
	if f := res.Fleet; f != nil {
		missed = f.Missed()
	}
	if g := res.GetKill; g != nil {
		missed = g.Missed()
	}
	if !res.Interrupted {
		if len(missed) > 0 {
			names := make([]string, len(missed))
			for i, t := range missed {
				names[i] = t.Name + " " + t.Got + " (want " + t.Want + ")"
			}
			return &res, fmt.Errorf("%s: target missed: %s", c.scenario, strings.Join(names, "; "))
		}
	}
	return &res, nil
}

// defaultURL is the endpoint when no --url is given.
const defaultURL = "http://127.0.0.1:8080/mcp"

// A urlList is the value of the repeatable --url flag: each use adds its
// comma-separated URLs.
type urlList []string

func (l *urlList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *urlList) Set(v string) error {
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*l = append(*l, u)
		}
	}
	return nil
}

// placeholders are replaced, in --server-cmd, by each node's address.
var placeholders = []string{"{addr}", "{host}", "{port}"}

func hasPlaceholder(cmd string) bool {
	for _, p := range placeholders {
		if strings.Contains(cmd, p) {
			return true
		}
	}
	return false
}

// expandCmd returns cmd with {addr}, {host} and {port} replaced by those
// of addr (host:port).
func expandCmd(cmd, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return strings.NewReplacer("{addr}", addr, "{host}", host, "{port}", port).Replace(cmd)
}

// startNodes starts --server-cmd once per node of client, if it is set,
// and returns the processes started (those started before an error
// included, for the caller to stop).
func startNodes(ctx context.Context, c *config, client *load.Client, stderr io.Writer) ([]*load.ServerProcess, error) {
	if c.serverCmd == "" {
		return nil, nil
	}
	cmd := c.serverCmd
	if c.redisURL != "" {
		cmd = strings.ReplaceAll(cmd, "{redis}", c.redisURL)
	}
	var nodes []*load.ServerProcess
	stderr = &lockedWriter{w: stderr} // the nodes write to it at once
	for i := range client.Nodes() {
		addr := client.NodeAddr(i)
		p := &load.ServerProcess{Args: []string{"/bin/sh", "-c", "exec " + expandCmd(cmd, addr)}, Addr: addr, Stderr: stderr}
		if c.signal == "TERM" {
			p.Signal = syscall.SIGTERM
		}
		if c.healthz != "" && nodesScenario(c.scenario) {
			p.HealthURL = healthURL(client.NodeURL(i), c.healthz)
		}
		if err := p.Start(ctx); err != nil {
			return nodes, err
		}
		nodes = append(nodes, p)
	}
	return nodes, nil
}

// A redisProcess is the redis-server a run starts when --server-cmd
// names {redis}.
type redisProcess struct {
	p   *load.ServerProcess
	dir string
}

// startRedis starts a redis-server if --server-cmd names {redis}: on a
// free port of 127.0.0.1, without persistence, in a temporary directory;
// it sets c.redisURL. The result's stop is safe to call on nil.
func startRedis(ctx context.Context, c *config) (*redisProcess, error) {
	if !strings.Contains(c.serverCmd, "{redis}") {
		return nil, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir, err := os.MkdirTemp("", "loadtest-redis-")
	if err != nil {
		return nil, err
	}
	r := &redisProcess{dir: dir, p: &load.ServerProcess{
		Args: []string{c.redisServer, "--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log")},
		Addr: addr, ReadyTimeout: 10 * time.Second,
	}}
	if err := r.p.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("{redis}: %w", err)
	}
	c.redisURL = "redis://" + addr + "/0"
	return r, nil
}

func (r *redisProcess) stop() {
	if r == nil {
		return
	}
	r.p.Stop()
	os.RemoveAll(r.dir)
}

// A lockedWriter serialises the writes of several processes' output
// copiers to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// healthURL returns the URL of path on the host of endpoint.
func healthURL(endpoint, path string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	u.Path, u.RawQuery = path, ""
	return u.String()
}

// checkTimeout bounds the check, before the run, that the target answers.
const checkTimeout = 3 * time.Second

// newOp returns the operation of a request/response scenario, after its
// setup (call: one session per worker), and the cleanup to run after.
func newOp(ctx context.Context, c *config, client *load.Client) (load.Op, func(), error) {
	switch c.scenario {
	case "miss":
		ids := make([]string, c.concurrency)
		for i := range ids {
			ids[i] = randomID()
		}
		return func(_ context.Context, w int, seq int64) (bool, string) {
			m := c.methods[seq%int64(len(c.methods))]
			r := client.Do(&load.Request{Method: m, SessionID: ids[w], Version: load.DefaultProtocolVersion})
			return r.Err == nil && r.Status == 404, m + " " + r.Key()
		}, nil, nil
	case "handshake", "churn":
		return func(_ context.Context, _ int, seq int64) (bool, string) {
			sid, version, failed := client.Handshake(seq + 1)
			if failed != nil {
				return false, "handshake " + failed.Key()
			}
			if r := client.Delete(sid, version); !r.OK() {
				return false, "DELETE " + r.Key()
			}
			return true, "ok"
		}, nil, nil
	case "call":
		accept := map[string]string{"json": load.AcceptJSON, "sse": load.AcceptSSE, "both": load.AcceptBoth}[c.mode]
		ss, err := client.Handshakes(ctx, c.concurrency, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("call: could not establish the sessions: initialize got %s", err)
		}
		op := func(_ context.Context, w int, seq int64) (bool, string) {
			r := client.Call(ss[w].ID, ss[w].Version, seq+1, accept)
			kind := "json"
			if r.SSE {
				kind = "sse"
			}
			if r.Err != nil {
				return false, r.Key()
			}
			return r.OK() && r.Result, r.Key() + " " + kind
		}
		cleanup := func() {
			load.ForEach(context.Background(), len(ss), 64, func(i int) { client.Delete(ss[i].ID, ss[i].Version) })
		}
		return op, cleanup, nil
	case "modern":
		return func(_ context.Context, _ int, seq int64) (bool, string) {
			r := client.Modern(seq + 1)
			return r.OK() && r.Result, r.Key()
		}, nil, nil
	}
	return nil, nil, fmt.Errorf("scenario %q has no operation", c.scenario)
}

// runStorm runs the storm scenario: the sessions are lost by a DELETE
// each, or by restarting the nodes.
func runStorm(ctx context.Context, c *config, client *load.Client, nodes []*load.ServerProcess, done *atomic.Int64) (load.Result, error) {
	st := &load.Storm{Client: client, Clients: c.clients, NaiveRetries: c.naiveTries, Progress: done, Deadline: max(c.duration, 10*time.Second)}
	if c.naive {
		st.Policy = load.PolicyNaive
	}
	if len(nodes) > 0 {
		st.Lose = func(ctx context.Context) error {
			for _, n := range nodes {
				if err := n.Restart(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	start := time.Now()
	sr, err := st.Run(ctx)
	return stormResult(sr, start, time.Since(start)), err
}

// runFleet runs the rolling and kill scenarios.
func runFleet(ctx context.Context, c *config, client *load.Client, nodes []*load.ServerProcess, done *atomic.Int64) (load.Result, error) {
	f := &load.Fleet{
		Client: client, Nodes: nodes, Victim: c.victim, Clients: c.clients,
		Rate: c.rate, Concurrency: c.concurrency, Steady: c.duration, Window: c.window, Progress: done,
	}
	if c.scenario == "kill" {
		f.Event = load.EventKill
	}
	return f.Run(ctx)
}

// stormResult is the Result of a storm that started at start and took
// elapsed. An operation is a client: ops = ok (recovered) + errors
// (failures); the requests the clients sent are counted in sr, and the
// statuses are theirs.
func stormResult(sr *load.StormResult, start time.Time, elapsed time.Duration) load.Result {
	res := load.Result{Started: start, Elapsed: load.Duration(elapsed)}
	if sr != nil {
		res.Storm = sr
		res.Requests = int64(sr.Clients)
		res.OK = int64(sr.Recovered)
		res.Errors = int64(sr.Failures)
		res.Throughput = load.Round1(float64(res.Requests) / elapsed.Seconds())
		res.Statuses = sr.Statuses
		res.Latency = load.SummaryOf(sr.Histogram())
		res.Buckets = load.BucketsOf(sr.Histogram(), 40)
	}
	return res
}

// notes explains what the numbers mean where a reader may misread them.
func notes(c *config, r *load.Result) []string {
	var n []string
	switch c.scenario {
	case "modern":
		for k := range r.Statuses {
			if strings.Contains(k, "-32022") {
				n = append(n, "the server answered -32022 (UnsupportedProtocolVersion): it does not serve the 2026-07-28 stateless revision; latencies are those of that refusal")
				break
			}
		}
	case "storm":
		how := "a DELETE of each session"
		if c.serverCmd != "" {
			how = "a restart of --server-cmd (SIG" + c.signal + ")"
		}
		n = append(n, "sessions lost by "+how+"; latency is per-client recovery time from the moment every stale request was released")
		if s := r.Storm; s != nil && s.Established < s.Clients {
			n = append(n, fmt.Sprintf("%d clients could not establish a session before the storm; they count as failed", s.Clients-s.Established))
		}
	case "sse":
		n = append(n, "latency is the time to open each GET stream (after its handshake)")
	case "rolling", "kill":
		n = append(n, "ops are the paced tools/call of the run (not the final call per client); a call counts once, with the re-initializations it needed; latency is from when each call was due")
		if f := r.Fleet; f != nil {
			if f.Established < f.Clients {
				n = append(n, fmt.Sprintf("%d clients could not establish a session; they made no calls", f.Clients-f.Established))
			}
			if f.Nodes == 1 {
				n = append(n, "one node: every session it held is lost when it restarts, unless its sessions outlive the process")
			}
		}
	case "miss":
		n = append(n, "ok means 404, as 2025-11-25 basic/transports §Session Management requires for an unknown session")
	case "getkill":
		n = append(n, "ops are the broadcasts (tools/call broadcast, one at a time, to a node that is not killed); latency is theirs, from when each was due")
		if g := r.GetKill; g != nil {
			switch {
			case g.Nodes == 1:
				n = append(n, "one node: no kill; the figures are the baseline of one node")
			case g.Victim < 0:
				n = append(n, "--victim -1: no kill; the steady delivery only")
			}
			if g.Opened < g.Streams {
				n = append(n, fmt.Sprintf("%d of %d streams could not be opened (see the statuses); the others were measured", g.Streams-g.Opened, g.Streams))
			}
			if g.SteadyExpected > 0 && g.SteadyEvents < 0.95*g.SteadyExpected {
				n = append(n, fmt.Sprintf("the streams got %.0f events/s of the %.0f/s raised before the kill: the nodes fell behind; lower --rate", g.SteadyEvents, g.SteadyExpected))
			}
		}
	}
	if r.Interrupted {
		n = append(n, "interrupted: partial results")
	}
	return n
}

func randomID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = hex[fastRand()%16]
	}
	return string(b)
}

var randState atomic.Uint64

func fastRand() uint64 {
	x := randState.Add(0x9e3779b97f4a7c15) ^ uint64(time.Now().UnixNano())
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	return x
}

// warnOffHost warns on stderr when rawURL's host is not a loopback
// address: the load goes to another machine. It refuses nothing.
func warnOffHost(stderr io.Writer, rawURL string) {
	if host := hostOf(rawURL); !isLoopback(host) {
		fmt.Fprintf(stderr, "loadtest: warning: %s is not a loopback address; sending load to another host. Make sure you may.\n", host)
	}
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Hostname()
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// progress shows a bar on stderr fed from done, until stop.
type progress struct {
	stopc chan struct{}
	done  chan struct{}
}

func newBar(c *config, stderr io.Writer, done *atomic.Int64) *progress {
	p := &progress{stopc: make(chan struct{}), done: make(chan struct{})}
	if !c.progress {
		close(p.done)
		return p
	}
	total := int64(-1)
	desc := c.scenario
	switch {
	case c.scenario == "storm":
		total = int64(2 * c.clients) // each client's handshake, then its recovery
		desc = "storm: establish + recover"
	case c.scenario == "sse":
		total = int64(c.streams)
		desc = "sse: opening streams"
	case fleetScenario(c.scenario):
		desc = c.scenario + ": calls" // how long the restarts take is not known in advance
	case c.scenario == "getkill":
		total = int64(c.rate * (c.warmup + 2*c.duration).Seconds())
		desc = "getkill: broadcasts"
	case c.count > 0:
		total = c.count
	case c.rate > 0 && c.duration > 0:
		total = int64(c.rate * c.duration.Seconds())
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("op"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetSpinnerChangeInterval(0), // no readings of its own, only those below
	)
	// The rate shown is done over the time since the bar started; left
	// unstarted, the bar starts at its first reading, which then divides
	// what was done so far by no time at all.
	bar.StartWithoutRender()
	go func() { // owner: run (p.stop); exit: stop
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				// The last reading stays on screen. A bar of known length
				// ends at 100% only if the run did all it had to.
				n := done.Load()
				_ = bar.Set64(n)
				if total < 0 || n >= total {
					_ = bar.Finish()
				} else {
					_ = bar.Exit()
				}
				fmt.Fprintln(stderr)
				return
			case <-t.C:
				_ = bar.Set64(done.Load())
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	select {
	case <-p.stopc:
	default:
		close(p.stopc)
	}
	<-p.done
}
