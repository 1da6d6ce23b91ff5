// Package metrics exposes an mcpfiber server's metrics in the Prometheus
// text format, served on fasthttp (through fasthttpadaptor) at /metrics
// of the MCP listener or on a listener of its own.
//
// # Overview
//
//	transport.Handler ──Observer calls──▶ Metrics ──▶ prometheus.Registry ──▶ GET /metrics
//	bridge.Bridge     ──Stats (scraped)──▶
//
// A [Metrics] is a [transport.Observer]. Everything it is told on a
// request path is a pre-resolved counter, gauge or histogram updated with
// atomic operations: no map lookup by label, no allocation, no lock (the
// 404 fast path stays at zero allocations; TestNotFoundAllocsObserved in
// package transport). Label values come from fixed sets: JSON-RPC methods
// outside [Methods] count as "other", so a client cannot grow the series.
//
// # Metrics
//
//	mcpfiber_sessions                                  gauge    live sessions
//	mcpfiber_sessions_started_total                    counter  sessions started by initialize
//	mcpfiber_sessions_ended_total{reason}              counter  delete, idle, shutdown, closed (child_exit with the stdio bridge)
//	mcpfiber_http_refusals_total{status,reason}        counter  4xx and 503 answers of the transport (404: reason session_not_found)
//	mcpfiber_sse_streams{stream}                       gauge    open SSE responses: standalone (GET) or request (POST)
//	mcpfiber_requests_total{method,outcome}            counter  JSON-RPC requests answered, outcome ok or error
//	mcpfiber_request_duration_seconds{method}          histogram time the backend took to answer
//	mcpfiber_connections_open                          gauge    client connections open on the MCP listener
//	mcpfiber_connections_refused_total                 counter  connections refused with 503 at --max-connections
//	mcpfiber_accept_errors_total                       counter  accept errors retried (out of descriptors…)
//	mcpfiber_bridge_children                           gauge    live stdio children
//	mcpfiber_bridge_children_started_total             counter
//	mcpfiber_bridge_children_refused_total             counter  initializes refused at --max-children (503)
//	mcpfiber_bridge_children_failed_total              counter  children that could not start or initialize
//	mcpfiber_bridge_children_exited_total{how}         counter  exited (on their own: crash or exit) or stopped (session ended)
//
// plus the Go runtime and process collectors (go_*, process_*).
package metrics

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/mcpfiber/mcpfiber/bridge"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/sessions"
	"github.com/mcpfiber/mcpfiber/transport"
)

// Path is where the metrics are served. Requests for other paths on a
// metrics listener get 404.
const Path = "/metrics"

// Methods are the JSON-RPC methods that get their own label value in
// mcpfiber_requests_total and mcpfiber_request_duration_seconds; every
// other method counts as "other".
var Methods = []string{
	"initialize", "ping",
	"tools/list", "tools/call",
	"resources/list", "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe",
	"prompts/list", "prompts/get",
	"completion/complete", "logging/setLevel",
	"tasks/get", "tasks/list", "tasks/result", "tasks/cancel", "tasks/update",
	"server/discover", "subscriptions/listen",
}

// Options configure [New]. A nil *Options means defaults.
type Options struct {
	// ClosedReason is the reason label of sessions a backend ended
	// (sessions.EndClosed). Default: "closed"; the binary uses
	// "child_exit" with the stdio bridge, whose children end sessions that
	// way.
	ClosedReason string
	// Buckets are the latency histogram's upper bounds, in seconds.
	// Default: [DefaultBuckets].
	Buckets []float64
}

// DefaultBuckets are the latency buckets, 0.5 ms to 30 s.
var DefaultBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// statusSlots index refusal counters by status: 400–499, then 503.
const statusSlots = 101

// Metrics collects an mcpfiber server's metrics in its own registry. It
// implements [transport.Observer]. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	started       prometheus.Counter
	ended         [sessions.MaxEndReason + 1]prometheus.Counter // by EndReason; 0 unused
	refusalsVec   *prometheus.CounterVec
	refusals      [transport.NumRefusals][statusSlots]atomic.Pointer[prometheus.Counter] // made on first use
	refusalsMu    sync.Mutex                                                             // guards making them
	streams       [2]prometheus.Gauge                                                    // request, standalone
	methodIndex   map[string]int                                                         // read-only after New
	requestsOK    []prometheus.Counter                                                   // by method index; last: other
	requestsError []prometheus.Counter
	durations     []prometheus.Observer
}

// New returns Metrics with a registry holding the transport's metrics and
// the Go runtime and process collectors. A nil opts means defaults.
func New(opts *Options) *Metrics {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ClosedReason == "" {
		o.ClosedReason = "closed"
	}
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.started = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mcpfiber_sessions_started_total", Help: "Sessions started by initialize.",
	})
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpfiber_sessions_ended_total", Help: "Sessions ended on this node, by reason: delete, idle, shutdown, the backend's (closed, child_exit), and with a session store evicted (dropped from this node's cache, alive in the store) and gone (ended on another node or expired in the store).",
	}, []string{"reason"})
	for r := sessions.EndDelete; r <= sessions.MaxEndReason; r++ {
		name := r.String()
		if r == sessions.EndClosed {
			name = o.ClosedReason
		}
		m.ended[r] = ended.WithLabelValues(name)
	}
	m.refusalsVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpfiber_http_refusals_total", Help: "Requests the transport refused with a 4xx or 503 status, by status and reason (404 session_not_found: an unknown or ended session).",
	}, []string{"status", "reason"})
	// The 404 of the fast path exists from the start, so that a scrape
	// shows it at 0.
	m.refusal(404, transport.RefusalSessionNotFound)

	streams := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mcpfiber_sse_streams", Help: "Open SSE responses: standalone (a session's GET stream) or request (a POST's).",
	}, []string{"stream"})
	m.streams[0] = streams.WithLabelValues("request")
	m.streams[1] = streams.WithLabelValues("standalone")

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpfiber_requests_total", Help: "JSON-RPC requests answered by the backend, by method and outcome (ok or error).",
	}, []string{"method", "outcome"})
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mcpfiber_request_duration_seconds", Help: "Time the backend took to answer a JSON-RPC request, by method.",
		Buckets: o.Buckets,
	}, []string{"method"})
	m.methodIndex = make(map[string]int, len(Methods))
	for i, name := range append(append([]string(nil), Methods...), "other") {
		m.methodIndex[name] = i
		m.requestsOK = append(m.requestsOK, requests.WithLabelValues(name, "ok"))
		m.requestsError = append(m.requestsError, requests.WithLabelValues(name, "error"))
		m.durations = append(m.durations, durations.WithLabelValues(name))
	}
	m.reg.MustRegister(m.started, ended, m.refusalsVec, streams, requests, durations)
	return m
}

// Registry returns the registry, for a program's own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchHandler adds mcpfiber_sessions, the live sessions of h.
func (m *Metrics) WatchHandler(h *transport.Handler) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mcpfiber_sessions", Help: "Live sessions.",
	}, func() float64 { return float64(h.Sessions().Len()) }))
}

// WatchListener adds the connection metrics of l, read from
// [transport.ConnListener.Stats] at each scrape:
// mcpfiber_connections_open, mcpfiber_connections_refused_total and
// mcpfiber_accept_errors_total.
func (m *Metrics) WatchListener(l *transport.ConnListener) {
	stat := func(f func(transport.ListenerStats) int64) func() float64 {
		return func() float64 { return float64(f(l.Stats())) }
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpfiber_connections_open", Help: "Client connections open on the MCP listener (at most --max-connections), GET streams included."},
			stat(func(s transport.ListenerStats) int64 { return s.Open })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_connections_refused_total", Help: "Connections answered with 503 and closed at once at the cap on open connections."},
			stat(func(s transport.ListenerStats) int64 { return s.Refused })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_accept_errors_total", Help: "Temporary accept errors (out of descriptors, buffers or memory) retried after a backoff."},
			stat(func(s transport.ListenerStats) int64 { return s.AcceptErrors })),
	)
}

// WatchBridge adds the mcpfiber_bridge_* metrics of b, read from
// [bridge.Bridge.Stats] at each scrape.
func (m *Metrics) WatchBridge(b *bridge.Bridge) {
	stat := func(f func(bridge.Stats) int64) func() float64 {
		return func() float64 { return float64(f(b.Stats())) }
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpfiber_bridge_children", Help: "Live stdio children (at most --max-children)."},
			stat(func(s bridge.Stats) int64 { return s.Live })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_bridge_children_started_total", Help: "Stdio children started."},
			stat(func(s bridge.Stats) int64 { return s.Started })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_bridge_children_refused_total", Help: "Initializes refused with 503 at the cap on children."},
			stat(func(s bridge.Stats) int64 { return s.Refused })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_bridge_children_failed_total", Help: "Stdio children that could not start or did not initialize."},
			stat(func(s bridge.Stats) int64 { return s.Failed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_bridge_children_exited_total", Help: "Stdio children gone: exited on their own (ending their session) or stopped (their session ended).",
			ConstLabels: prometheus.Labels{"how": "exited"}},
			stat(func(s bridge.Stats) int64 { return s.Exited })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_bridge_children_exited_total", Help: "Stdio children gone: exited on their own (ending their session) or stopped (their session ended).",
			ConstLabels: prometheus.Labels{"how": "stopped"}},
			stat(func(s bridge.Stats) int64 { return s.Stopped })),
	)
}

// WatchStore adds the mcpfiber_session_store_* metrics of st, read from
// [redisstore.Store.Health] at each scrape: whether Redis answered the
// last ping (up, 0 or 1), that ping's round trip in seconds, and the
// store's operations and failed operations since start.
func (m *Metrics) WatchStore(st *redisstore.Store) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpfiber_session_store_up", Help: "1 if the session store (Redis) answered its last ping, else 0."},
			func() float64 {
				if st.Health().Up {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpfiber_session_store_rtt_seconds", Help: "Round trip of the session store's last successful ping."},
			func() float64 { return st.Health().RTT.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_session_store_operations_total", Help: "Session store operations (create, load, save, touch, delete)."},
			func() float64 { return float64(st.Health().Ops) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpfiber_session_store_errors_total", Help: "Session store operations and pings that failed (Redis unreachable or too slow)."},
			func() float64 { return float64(st.Health().Errors) }),
	)
}

// SessionStarted implements [transport.Observer].
func (m *Metrics) SessionStarted() { m.started.Inc() }

// SessionEnded implements [transport.Observer].
func (m *Metrics) SessionEnded(reason sessions.EndReason) {
	if reason >= sessions.EndDelete && reason <= sessions.MaxEndReason {
		m.ended[reason].Inc()
	}
}

// Refused implements [transport.Observer]. The counter of a (status,
// reason) pair is made on its first use; from then on Refused does not
// allocate.
func (m *Metrics) Refused(status int, reason transport.Refusal) {
	m.refusal(status, reason).Inc()
}

func (m *Metrics) refusal(status int, reason transport.Refusal) prometheus.Counter {
	slot := status - 400
	if status == http.StatusServiceUnavailable {
		slot = statusSlots - 1
	}
	if slot < 0 || slot >= statusSlots || int(reason) >= transport.NumRefusals {
		slot, reason = 0, transport.RefusalOther // not a status the transport refuses with: count as 400/other
	}
	p := &m.refusals[reason][slot]
	if c := p.Load(); c != nil {
		return *c
	}
	m.refusalsMu.Lock()
	defer m.refusalsMu.Unlock()
	if c := p.Load(); c != nil {
		return *c
	}
	code := 400 + slot
	if slot == statusSlots-1 {
		code = http.StatusServiceUnavailable
	}
	c := m.refusalsVec.WithLabelValues(strconv.Itoa(code), reason.String())
	p.Store(&c)
	return c
}

// StreamOpened implements [transport.Observer].
func (m *Metrics) StreamOpened(standalone bool) { m.streams[b2i(standalone)].Inc() }

// StreamClosed implements [transport.Observer].
func (m *Metrics) StreamClosed(standalone bool) { m.streams[b2i(standalone)].Dec() }

// Request implements [transport.Observer].
func (m *Metrics) Request(method string, took time.Duration, failed bool) {
	i, ok := m.methodIndex[method]
	if !ok {
		i = len(m.durations) - 1
	}
	if failed {
		m.requestsError[i].Inc()
	} else {
		m.requestsOK[i].Inc()
	}
	m.durations[i].Observe(took.Seconds())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Handler returns a fasthttp handler that serves the metrics in the
// Prometheus text format (gzip when the scraper asks), through
// fasthttpadaptor. It serves every path it is given; see [Metrics.Serve]
// for a listener of its own.
func (m *Metrics) Handler() fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// A Listener serves the metrics on a listener of their own (--metrics-addr).
type Listener struct {
	srv *fasthttp.Server
	ln  net.Listener
}

// Listen opens addr and returns a Listener that serves the metrics at
// [Path] (other paths get 404) once Serve is called.
func (m *Metrics) Listen(addr string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := m.Handler()
	return &Listener{ln: ln, srv: &fasthttp.Server{
		Name:                  "mcpfiber-metrics",
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           time.Minute,
		NoDefaultServerHeader: true,
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) != Path {
				ctx.Error("not found; metrics are at "+Path, fasthttp.StatusNotFound)
				return
			}
			h(ctx)
		},
	}}, nil
}

// Addr returns the address the Listener listens on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve serves until Shutdown; it returns nil after a Shutdown.
func (l *Listener) Serve() error { return l.srv.Serve(l.ln) }

// Shutdown closes the listener and waits for open connections to finish,
// or for ctx to end.
func (l *Listener) Shutdown(ctx context.Context) error {
	return l.srv.ShutdownWithContext(ctx)
}

// Interface guard.
var _ transport.Observer = (*Metrics)(nil)
