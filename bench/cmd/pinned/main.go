// Command pinned measures the servers of package bench as an operator
// sees them (issue #16): each server alone in a child process on one CPU
// (taskset -c 0), the load generator alone on another (this process,
// re-executed under taskset -c 1), and for each figure the successful
// operations per second beside the server's CPU time per successful
// operation, read from /proc/<pid>/stat (utime + stime) before and after
// the measured window.
//
// Usage (from bench/):
//
//	go run ./cmd/pinned                       # every figure, 3 passes
//	go run ./cmd/pinned -passes 5 -storm 10000 -idle 20000 -streams 5000
//	go run ./cmd/pinned -figures call -servers mcpfiber -cpuprofile /tmp/prof
//	go run ./cmd/pinned -json runs.jsonl …; go run ./cmd/pinned -from runs.jsonl
//
// make bench-pinned runs it with the sizes of issue #16.
//
// # Figures
//
//	miss       POST (tools/call body), GET and DELETE in turn, each naming an
//	           unknown session: a success is a 404. Floor: bench.Floor.
//	handshake  initialize + notifications/initialized + DELETE: a success is
//	           all three answered 2xx. Floor: bench.Floor200.
//	call       tools/call echo in one established session per worker,
//	           Accept: application/json, text/event-stream (the Go SDK is
//	           set up with JSONResponse). Floor: bench.Floor200.
//	storm      -storm clients establish sessions, the server is killed
//	           (SIGKILL) and restarted, then every client at once sends its
//	           stale call and recovers: 404 → initialize → initialized →
//	           call (load.Storm, PolicySpec). Server CPU is the restarted
//	           process's, from its start to the last recovery.
//	memory     RSS per idle session (-idle sessions made by handshakes) and
//	           per open GET stream (-streams sessions, then a stream each),
//	           read from /proc/<pid>/status after a GC and
//	           debug.FreeOSMemory in the server (a side endpoint).
//
// # Passes
//
// A pass runs every figure once; within a figure the servers run one after
// the other (a fresh child each), the order rotated from pass to pass, so
// that a ratio is taken between runs seconds apart. The summary gives, per
// figure and server, the median and range over the passes, and the ratios
// within each pass: for miss, handshake and call the floor's CPU per
// operation over mcpfiber's (1× is the floor; 0.5× is twice its CPU), and
// the rates against the Go SDK; for the storm, the Go SDK's recovery time
// over mcpfiber's. The load average (/proc/loadavg) is printed with each
// pass: other work on the machine shows there.
//
// # Profiles
//
// With -cpuprofile DIR, each child of miss, handshake and call writes a
// CPU profile of its measured window to DIR/<figure>-<server>-pass<N>.prof
// (the child starts the profile when the warm-up ends, on a request to its
// side endpoint; bench.Start serves the server in the child, so no flag of
// the mcpfiber binary is involved). Read one with
// go tool pprof -top <this binary> <profile>.
// Profiling costs CPU: figures from such a run are not the claim.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mcpfiber/mcpfiber/bench"
	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

// The child process: this binary, re-executed with these set.
const (
	envServe  = "MCPFIBER_PINNED_SERVE" // the server to run
	envAddr   = "MCPFIBER_PINNED_ADDR"  // its address
	envSide   = "MCPFIBER_PINNED_SIDE"  // the side endpoint's address
	envPinned = "MCPFIBER_PINNED_LOAD"  // set once the load generator runs pinned
)

func main() {
	if name := os.Getenv(envServe); name != "" {
		os.Exit(serveChild(name))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "pinned:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	passes      int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	storm       int
	idle        int
	streams     int
	figures     []string
	servers     []string
	serverCPU   string
	loadCPU     string
	cpuprofile  string
	jsonOut     string
	from        string
}

var allFigures = []string{"miss", "handshake", "call", "storm", "memory"}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("pinned", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var figures, servers string
	fs.IntVar(&c.passes, "passes", 3, "passes over the figures")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "measured window of miss, handshake and call, per server and pass")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "load before the measured window (not counted)")
	fs.IntVar(&c.concurrency, "concurrency", 16, "closed-loop workers (and connections) of miss, handshake and call")
	fs.IntVar(&c.storm, "storm", 10000, "storm: clients (0: no storm)")
	fs.IntVar(&c.idle, "idle", 20000, "memory: idle sessions (0: not measured)")
	fs.IntVar(&c.streams, "streams", 5000, "memory: open GET streams (0: not measured)")
	fs.StringVar(&figures, "figures", strings.Join(allFigures, ","), "the figures to run")
	fs.StringVar(&servers, "servers", "", "run only these servers (comma-separated; default: mcpfiber, its floor, gosdk)")
	fs.StringVar(&c.serverCPU, "server-cpu", "0", "taskset CPU list of the server")
	fs.StringVar(&c.loadCPU, "load-cpu", "1", "taskset CPU list of the load generator (empty: not pinned)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of each measured window (miss, handshake, call) into this directory")
	fs.StringVar(&c.jsonOut, "json", "", "also write every run as a JSON line to this file")
	fs.StringVar(&c.from, "from", "", "measure nothing: summarize the runs of a -json file (with the -figures and -servers given)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.figures = strings.Split(figures, ",")
	for _, f := range c.figures {
		if !slices.Contains(allFigures, f) {
			return nil, fmt.Errorf("unknown figure %q (want %s)", f, strings.Join(allFigures, ", "))
		}
	}
	if servers != "" {
		c.servers = strings.Split(servers, ",")
	}
	if c.passes < 1 || c.concurrency < 1 || c.duration <= 0 {
		return nil, errors.New("-passes, -concurrency and -duration must be positive")
	}
	return c, nil
}

// serversOf returns the servers of a figure.
func (c *config) serversOf(figure string) []string {
	var s []string
	switch figure {
	case "miss":
		s = []string{bench.MCPFiber, bench.Floor, bench.GoSDK}
	case "handshake", "call":
		s = []string{bench.MCPFiber, bench.Floor200, bench.GoSDK}
	default:
		s = []string{bench.MCPFiber, bench.GoSDK}
	}
	if c.servers == nil {
		return s
	}
	return slices.DeleteFunc(s, func(n string) bool { return !slices.Contains(c.servers, n) })
}

// A Run is one figure measured on one server in one pass.
type Run struct {
	Pass    int     `json:"pass"`
	Figure  string  `json:"figure"`
	Server  string  `json:"server"`
	LoadAvg string  `json:"loadavg"`
	OK      int64   `json:"ok"`
	Failed  int64   `json:"failed"`
	Seconds float64 `json:"seconds"`
	// OpsPerS is successful operations per second of the window.
	OpsPerS float64 `json:"ops_per_s"`
	// CPUPerOpUs is the server's CPU (utime + stime) per successful
	// operation, in µs; Busy is its CPU over the window's wall time.
	CPUPerOpUs float64 `json:"cpu_per_op_us"`
	Busy       float64 `json:"busy"`
	// Statuses counts the answers (miss, handshake, call) that failed.
	Statuses map[string]int64 `json:"statuses,omitempty"`

	// Storm.
	RecoveryMs float64 `json:"recovery_ms,omitempty"`
	P99Ms      float64 `json:"p99_ms,omitempty"`
	NotFound   [2]int  `json:"not_found_per_client,omitempty"`
	Requests   int64   `json:"requests,omitempty"`
	// Memory: RSS growth per idle session and per open stream, in bytes.
	RSSPerSession float64 `json:"rss_per_session,omitempty"`
	RSSPerStream  float64 `json:"rss_per_stream,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if c.from != "" {
		runs, err := readRuns(c.from)
		if err != nil {
			return err
		}
		c.passes = 0
		for _, r := range runs {
			c.passes = max(c.passes, r.Pass)
		}
		summarize(stdout, c, runs)
		return nil
	}
	if c.loadCPU != "" && os.Getenv(envPinned) == "" {
		return pinSelf(c.loadCPU)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return errors.New("taskset not found (util-linux)")
	}
	if c.cpuprofile != "" {
		if err := os.MkdirAll(c.cpuprofile, 0o755); err != nil {
			return err
		}
	}
	var jsonOut io.Writer
	if c.jsonOut != "" {
		f, err := os.Create(c.jsonOut)
		if err != nil {
			return err
		}
		defer f.Close()
		jsonOut = f
	}
	fmt.Fprintf(stderr, "pinned: servers on CPU %s, load on CPU %s (GOMAXPROCS %d here), %d passes\n", c.serverCPU, c.loadCPU, runtime.GOMAXPROCS(0), c.passes)
	var runs []Run
	for pass := range c.passes {
		la := loadAvg()
		fmt.Fprintf(stderr, "pass %d: load average %s\n", pass+1, la)
		for _, fig := range c.figures {
			names := c.serversOf(fig)
			if len(names) == 0 {
				continue
			}
			k := pass % len(names)
			order := append(slices.Clone(names[k:]), names[:k]...)
			for _, name := range order {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r, err := c.measure(ctx, pass, fig, name)
				if err != nil {
					return fmt.Errorf("pass %d, %s, %s: %w", pass+1, fig, name, err)
				}
				r.Pass, r.Figure, r.Server, r.LoadAvg = pass+1, fig, name, la
				fmt.Fprintln(stderr, "  "+r.line())
				runs = append(runs, r)
				if jsonOut != nil {
					b, _ := json.Marshal(r)
					fmt.Fprintf(jsonOut, "%s\n", b)
				}
			}
		}
	}
	summarize(stdout, c, runs)
	return nil
}

// readRuns reads the JSON lines of a -json file.
func readRuns(path string) ([]Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var runs []Run
	dec := json.NewDecoder(f)
	for {
		var r Run
		if err := dec.Decode(&r); err == io.EOF {
			return runs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		runs = append(runs, r)
	}
}

// pinSelf re-executes this command under taskset -c cpus, so that every
// thread of the load generator runs there (and GOMAXPROCS follows).
func pinSelf(cpus string) error {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return errors.New("taskset not found (util-linux); -load-cpu '' runs unpinned")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append([]string{"taskset", "-c", cpus, self}, os.Args[1:]...)
	return syscall.Exec(taskset, argv, append(os.Environ(), envPinned+"=1"))
}

func (r *Run) line() string {
	switch r.Figure {
	case "storm":
		return fmt.Sprintf("%-9s %-9s recovery %.0f ms (p99 %.0f ms), 404s per client %d–%d, server CPU %.1f µs per client, failed %d",
			r.Figure, r.Server, r.RecoveryMs, r.P99Ms, r.NotFound[0], r.NotFound[1], r.CPUPerOpUs, r.Failed)
	case "memory":
		return fmt.Sprintf("%-9s %-9s %.0f B per idle session, %.0f B per GET stream", r.Figure, r.Server, r.RSSPerSession, r.RSSPerStream)
	}
	return fmt.Sprintf("%-9s %-9s %8.0f ok/s  %6.2f µs CPU/op  busy %3.0f%%  failed %d %v",
		r.Figure, r.Server, r.OpsPerS, r.CPUPerOpUs, 100*r.Busy, r.Failed, r.Statuses)
}

// A child is a server in a child process pinned with taskset.
type child struct {
	proc *load.ServerProcess
	url  string
	side string
}

func (c *config) startChild(ctx context.Context, name string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	side, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &load.ServerProcess{
		Args:   []string{"taskset", "-c", c.serverCPU, self},
		Env:    []string{envServe + "=" + name, envAddr + "=" + addr, envSide + "=" + side, envPinned + "="},
		Addr:   addr,
		Stderr: os.Stderr,
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return &child{proc: p, url: "http://" + addr + "/mcp", side: "http://" + side}, nil
}

func (ch *child) stop() { _ = ch.proc.StopWith(syscall.SIGTERM) }

// sideGet sends GET path to the child's side endpoint.
func (ch *child) sideGet(path string) error {
	resp, err := http.Get(ch.side + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cpuTicks reads utime + stime of pid from /proc/<pid>/stat, in clock
// ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

// parseStat returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStat(b []byte) (int64, error) {
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("/proc stat: short line")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return u + s, nil
}

// clockTick is the unit of /proc/<pid>/stat times: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *config) measure(ctx context.Context, pass int, fig, name string) (Run, error) {
	ch, err := c.startChild(ctx, name)
	if err != nil {
		return Run{}, err
	}
	defer ch.stop()
	switch fig {
	case "storm":
		return c.measureStorm(ctx, ch)
	case "memory":
		return c.measureMemory(ctx, ch)
	}
	cl, err := load.NewClient(ch.url, &load.Options{MaxConns: c.concurrency, Timeout: 10 * time.Second})
	if err != nil {
		return Run{}, err
	}
	defer cl.CloseIdleConnections()
	op, err := c.newOp(ctx, fig, cl)
	if err != nil {
		return Run{}, err
	}
	warm := load.Run(ctx, load.Loop{Concurrency: c.concurrency, Duration: c.warmup}, op)
	if warm.OK == 0 {
		return Run{}, fmt.Errorf("no success in the warm-up: %v", warm.Statuses)
	}
	profiling := c.cpuprofile != ""
	if profiling {
		path := fmt.Sprintf("%s/%s-%s-pass%d.prof", c.cpuprofile, fig, name, pass+1)
		if err := ch.sideGet("/profile/start?path=" + path); err != nil {
			return Run{}, err
		}
	}
	pid := ch.proc.Pid()
	t0, err := cpuTicks(pid)
	if err != nil {
		return Run{}, err
	}
	res := load.Run(ctx, load.Loop{Concurrency: c.concurrency, Duration: c.duration}, op)
	t1, err := cpuTicks(pid)
	if err != nil {
		return Run{}, err
	}
	if profiling {
		if err := ch.sideGet("/profile/stop"); err != nil {
			return Run{}, err
		}
	}
	cpu := time.Duration(t1-t0) * clockTick
	secs := time.Duration(res.Elapsed).Seconds()
	r := Run{OK: res.OK, Failed: res.Requests - res.OK, Seconds: secs}
	if secs > 0 {
		r.OpsPerS = float64(res.OK) / secs
		r.Busy = cpu.Seconds() / secs
	}
	if res.OK > 0 {
		r.CPUPerOpUs = float64(cpu.Microseconds()) / float64(res.OK)
	}
	if r.Failed > 0 {
		r.Statuses = res.Statuses
	}
	return r, nil
}

// newOp returns the operation of a request/response figure, after its
// setup (call: one session per worker).
func (c *config) newOp(ctx context.Context, fig string, cl *load.Client) (load.Op, error) {
	switch fig {
	case "miss":
		ids := make([]string, c.concurrency)
		for i := range ids {
			ids[i] = randomID()
		}
		methods := []string{http.MethodPost, http.MethodGet, http.MethodDelete}
		return func(_ context.Context, w int, seq int64) (bool, string) {
			m := methods[seq%int64(len(methods))]
			req := &load.Request{Method: m, SessionID: ids[w], Version: load.DefaultProtocolVersion, StatusOnly: true}
			if m == http.MethodPost {
				req.Msg = &load.Message{ID: seq + 1, Method: "tools/call", Params: load.EchoParams}
			}
			r := cl.Do(req)
			ok := r.Err == nil && r.Status == http.StatusNotFound
			if ok {
				return true, "404"
			}
			return false, m + " " + r.Key()
		}, nil
	case "handshake":
		return func(_ context.Context, _ int, seq int64) (bool, string) {
			sid, version, failed := cl.Handshake(seq + 1)
			if failed != nil {
				return false, "handshake " + failed.Key()
			}
			if r := cl.Delete(sid, version); !r.OK() {
				return false, "DELETE " + r.Key()
			}
			return true, "ok"
		}, nil
	case "call":
		ss, err := cl.Handshakes(ctx, c.concurrency, 16)
		if err != nil {
			return nil, fmt.Errorf("call: could not establish the sessions: %s", err)
		}
		return func(_ context.Context, w int, seq int64) (bool, string) {
			r := cl.Call(ss[w].ID, ss[w].Version, seq+1, load.AcceptBoth)
			if r.OK() && r.Result {
				return true, "ok"
			}
			return false, r.Key()
		}, nil
	}
	return nil, fmt.Errorf("no operation for %q", fig)
}

func (c *config) measureStorm(ctx context.Context, ch *child) (Run, error) {
	if c.storm <= 0 {
		return Run{}, errors.New("-storm is 0")
	}
	cl, err := load.NewClient(ch.url, &load.Options{Timeout: 30 * time.Second})
	if err != nil {
		return Run{}, err
	}
	defer cl.CloseIdleConnections()
	var t0 int64
	s := &load.Storm{
		Client:  cl,
		Clients: c.storm,
		Policy:  load.PolicySpec,
		Lose: func(ctx context.Context) error {
			if err := ch.proc.Restart(ctx); err != nil {
				return err
			}
			var err error
			t0, err = cpuTicks(ch.proc.Pid())
			return err
		},
		Deadline: 2 * time.Minute,
	}
	res, err := s.Run(ctx)
	if err != nil {
		return Run{}, err
	}
	t1, err := cpuTicks(ch.proc.Pid())
	if err != nil {
		return Run{}, err
	}
	cpu := time.Duration(t1-t0) * clockTick
	r := Run{
		OK: int64(res.Recovered), Failed: int64(res.Failures), Seconds: res.RecoveryMs / 1e3,
		RecoveryMs: res.RecoveryMs, P99Ms: res.P99Ms, NotFound: [2]int{res.NotFoundMin, res.NotFoundMax},
		Requests: res.Requests,
	}
	if res.Recovered > 0 {
		r.CPUPerOpUs = float64(cpu.Microseconds()) / float64(res.Recovered)
		r.OpsPerS = float64(res.Recovered) / r.Seconds
	}
	if r.Seconds > 0 {
		r.Busy = cpu.Seconds() / r.Seconds
	}
	return r, nil
}

func (c *config) measureMemory(ctx context.Context, ch *child) (Run, error) {
	var r Run
	rss := func() (int64, error) {
		if err := ch.sideGet("/settle"); err != nil {
			return 0, err
		}
		v, _, err := load.ReadProc(ch.proc.Pid())
		return v, err
	}
	cl, err := load.NewClient(ch.url, &load.Options{MaxConns: 64, Timeout: 30 * time.Second})
	if err != nil {
		return r, err
	}
	defer cl.CloseIdleConnections()
	handshakes := func(n int) ([][2]string, error) {
		sids := make([][2]string, n)
		var failed atomic.Int64
		load.ForEach(ctx, n, 64, func(i int) {
			sid, version, f := cl.Handshake(int64(i + 1))
			if f != nil {
				failed.Add(1)
				return
			}
			sids[i] = [2]string{sid, version}
		})
		if n := failed.Load(); n > 0 {
			return nil, fmt.Errorf("%d handshakes failed", n)
		}
		return sids, ctx.Err()
	}
	// Idle sessions.
	if c.idle > 0 {
		before, err := rss()
		if err != nil {
			return r, err
		}
		if _, err := handshakes(c.idle); err != nil {
			return r, err
		}
		after, err := rss()
		if err != nil {
			return r, err
		}
		r.RSSPerSession = float64(after-before) / float64(c.idle)
	}
	// GET streams, in sessions of their own, beside the idle ones.
	if c.streams > 0 {
		sids, err := handshakes(c.streams)
		if err != nil {
			return r, err
		}
		before, err := rss()
		if err != nil {
			return r, err
		}
		streams := make([]*load.Stream, len(sids))
		var mu sync.Mutex
		var failed []string
		load.ForEach(ctx, len(sids), 64, func(i int) {
			st, status, err := cl.OpenStream(ctx, sids[i][0], sids[i][1])
			if err != nil || status != http.StatusOK {
				mu.Lock()
				failed = append(failed, fmt.Sprint(status, err))
				mu.Unlock()
				return
			}
			streams[i] = st
			go func() { _ = st.Read(func([]byte) {}) }() // owner: measureMemory; exit: st.Close below
		})
		defer func() {
			for _, st := range streams {
				if st != nil {
					st.Close()
				}
			}
		}()
		if len(failed) > 0 {
			return r, fmt.Errorf("%d streams failed to open, first: %s", len(failed), failed[0])
		}
		after, err := rss()
		if err != nil {
			return r, err
		}
		r.RSSPerStream = float64(after-before) / float64(c.streams)
	}
	return r, nil
}

// serveChild runs a server until SIGTERM, with its side endpoint:
// /settle (two GCs, then debug.FreeOSMemory, so that RSS is the live
// memory's) and /profile/start?path=…, /profile/stop (a CPU profile).
func serveChild(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", os.Getenv(envSide))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pinned child:", err)
		return 1
	}
	var profile *os.File
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/settle", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		debug.FreeOSMemory()
	})
	mux.HandleFunc("/profile/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.Create(r.URL.Query().Get("path"))
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		profile = f
	})
	mux.HandleFunc("/profile/stop", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
			profile = nil
		}
	})
	go func() { _ = http.Serve(ln, mux) }() // owner: the child process; exit: the process ends
	t, err := bench.Start(name, bench.Config{Addr: os.Getenv(envAddr), Mode: bench.ModeJSON})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pinned child:", err)
		return 1
	}
	<-ctx.Done()
	mu.Lock()
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	mu.Unlock()
	t.Close()
	return 0
}
