// Package server assembles the mcpfiber binary's server: an [mcp.Server]
// with a tool catalogue (or, with Config.Stdio, a [bridge.Bridge] to a
// stdio MCP server), the Streamable HTTP [transport.Handler], a Fiber app
// with /healthz and Prometheus /metrics, a loopback-by-default listener
// (optionally TLS), and the ordered shutdown. Tests and benchmarks start the same server in-process.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/bridge"
	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/metrics"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/sessions"
	"github.com/mcpfiber/mcpfiber/transport"
)

// Version is the server version sent in serverInfo.
const Version = "0.1.0"

// Config is what the binary's flags set. The zero value of a field means
// its default.
type Config struct {
	// Addr is the listen address. Default: 127.0.0.1:8080.
	Addr string
	// Path is the MCP endpoint. Default: /mcp.
	Path string
	// SessionIdleTimeout ends idle sessions. Default: 30m; negative: never.
	SessionIdleTimeout time.Duration
	// MaxSessions caps live sessions. Default: 100000; negative: no cap.
	MaxSessions int
	// AllowedOrigins is the Origin allow-list. Default: the localhost origins.
	AllowedOrigins []string
	// JSONResponse answers every POST with application/json.
	JSONResponse bool
	// KeepAlive is the SSE keep-alive interval. Default: 15s; negative: none.
	KeepAlive time.Duration
	// DrainWindow spreads the closing of GET streams at shutdown. Default: 5s.
	DrainWindow time.Duration
	// DrainDelay keeps the listener open at shutdown for at least this
	// long, /healthz answering 503, so that a load balancer takes the node
	// out before it goes (see Shutdown). Default: 0 (the listener closes
	// once the transport has drained).
	DrainDelay time.Duration
	// GracePeriod bounds the whole shutdown. Default: 15s.
	GracePeriod time.Duration
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// Catalog names the feature set served, one of catalog.Names:
	// "default" (echo, progress), "conformance" (what the official MCP
	// conformance suite calls) or "loadtest" (default, and broadcast for
	// the load generator). Default: "default". New panics on an
	// unknown name; check it with catalog.Lookup first.
	Catalog string
	// StateKey is the 32-byte key that seals the requestState of
	// 2026-07-28 input-required results (mcp.ServerOptions.StateKey).
	// Default: a random key per process.
	StateKey []byte
	// Stdio, if set, is the command (program, then arguments) of a stdio
	// MCP server to serve instead of the catalog: each session gets its own
	// child process (package bridge). Optional.
	Stdio []string
	// MaxChildren caps live stdio children; past it initialize gets 503.
	// Default: bridge.DefaultMaxChildren() (8 per CPU).
	MaxChildren int
	// TLSCertFile and TLSKeyFile are PEM files; with both set the server
	// speaks HTTPS (HTTP/1.1, TLS 1.2 or later). Default: plain HTTP.
	TLSCertFile, TLSKeyFile string
	// WriteTimeout bounds each write to a client (transport.Options).
	// Default: 30s; negative: none.
	WriteTimeout time.Duration
	// MaxConnections caps open client connections; past it a new
	// connection gets 503 and is closed at once, while existing ones keep
	// working. Default: sized from the RLIMIT_NOFILE soft limit
	// (transport.DefaultMaxConnections); negative: no cap.
	MaxConnections int
	// MaxInflightPerSession and MaxInflight cap the requests running at
	// once, per session and overall (transport.Options). Defaults: 64 and
	// 10 000; negative: no cap.
	MaxInflightPerSession, MaxInflight int
	// CallTimeout cancels a request that runs longer (transport.Options).
	// Default: 10 min; negative: no limit.
	CallTimeout time.Duration
	// MaxHeaderBytes is the room for a request's line and headers.
	// Default: 16 KiB.
	MaxHeaderBytes int
	// MaxStreamEventBytes and MaxSessionEventBytes bound the resumable
	// event logs, per stream and per session (sessions.Options). Defaults:
	// 1 MiB and 8 MiB.
	MaxStreamEventBytes, MaxSessionEventBytes int
	// SessionStore, if set, keeps the sessions in Redis so that every
	// server pointed at the same Redis serves every session (package
	// redisstore); its StateKey seals 2026-07-28 requestState unless
	// StateKey is set. The Server owns it from New on: Shutdown closes it.
	// Default: nil, sessions live in this process.
	SessionStore *redisstore.Store
	// MetricsAddr is where Prometheus metrics are served: "" for /metrics
	// on the main listener, host:port for a listener of their own (plain
	// HTTP), "off" for none. Default: "".
	MetricsAddr string
	// Auth turns on OAuth bearer-token authorization when Auth.Issuer is
	// set (the --auth-* flags; transport.Auth). New panics on an invalid
	// Auth; check it with Auth.Validate first.
	Auth auth.Config
}

// Defaults for [Config].
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultGracePeriod = 15 * time.Second
)

// A Server is a configured mcpfiber server.
type Server struct {
	cfg       Config
	mcp       *mcp.Server
	bridge    *bridge.Bridge // with Config.Stdio
	metrics   *metrics.Metrics
	metricsLn *metrics.Listener // with Config.MetricsAddr host:port
	handler   *transport.Handler
	app       *fiber.App
	ln        net.Listener
	conns     *transport.ConnListener // inside ln
	verifier  *auth.Cache             // with Config.Auth; closed at Shutdown
}

// New builds a Server from cfg; it does not listen yet.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.DrainWindow <= 0 {
		cfg.DrainWindow = transport.DefaultDrainWindow
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cat, err := catalog.Lookup(cfg.Catalog)
	if err != nil {
		panic("server: " + err.Error())
	}
	if cfg.StateKey == nil && cfg.SessionStore != nil {
		cfg.StateKey = cfg.SessionStore.StateKey() // the same on every node
	}
	opts := &mcp.ServerOptions{Logger: cfg.Logger, StateKey: cfg.StateKey}
	if cfg.SessionStore != nil { // several nodes send requests in one session, and share tasks
		opts.RequestIDPrefix = cfg.SessionStore.NodeID() + "-"
		opts.ForwardTask = forwardTask(cfg.SessionStore)
		opts.OnNotifyAll = broadcastNotify(cfg.SessionStore)
		opts.OnNotifyAllSelf = true // through the broadcast log, in its order
	}
	cat.Options(opts)
	srv := mcp.NewServer(mcp.Implementation{Name: "mcpfiber", Version: Version}, opts)
	cat.Register(srv)
	if cfg.SessionStore != nil {
		cfg.SessionStore.OnCall(answerForwarded(srv))
	}
	var onBroadcast func([]byte)
	var replayBroadcast func(*mcp.SessionState, []byte)
	if cfg.SessionStore != nil {
		onBroadcast, replayBroadcast = notifyHere(srv), notifyOne(srv)
	}
	var backend mcp.Backend = srv
	var br *bridge.Bridge
	if len(cfg.Stdio) > 0 {
		if br, err = bridge.New(cfg.Stdio, &bridge.Options{MaxChildren: cfg.MaxChildren, Logger: cfg.Logger}); err != nil {
			panic("server: " + err.Error())
		}
		backend = br
	}
	var m *metrics.Metrics
	var observer transport.Observer
	if cfg.MetricsAddr != "off" {
		closed := "closed"
		if br != nil {
			closed = "child_exit"
		}
		m = metrics.New(&metrics.Options{ClosedReason: closed})
		observer = m
	}
	var store sessions.Store
	if cfg.SessionStore != nil {
		store = cfg.SessionStore
	}
	ta, verifier := newAuth(&cfg.Auth)
	h := transport.NewHandler(backend, &transport.Options{
		Auth:                  ta,
		Path:                  cfg.Path,
		AllowedOrigins:        cfg.AllowedOrigins,
		JSONResponse:          cfg.JSONResponse,
		KeepAlive:             cfg.KeepAlive,
		Logger:                cfg.Logger,
		Observer:              observer,
		WriteTimeout:          cfg.WriteTimeout,
		MaxInflightPerSession: cfg.MaxInflightPerSession,
		MaxInflight:           cfg.MaxInflight,
		CallTimeout:           cfg.CallTimeout,
		MaxHeaderBytes:        cfg.MaxHeaderBytes,
		OnBroadcast:           onBroadcast,
		ReplayBroadcast:       replayBroadcast,
		Sessions: sessions.Options{
			IdleTimeout:          cfg.SessionIdleTimeout,
			MaxSessions:          cfg.MaxSessions,
			MaxStreamEventBytes:  cfg.MaxStreamEventBytes,
			MaxSessionEventBytes: cfg.MaxSessionEventBytes,
			Store:                store,
		},
	})
	app := transport.NewApp(h)
	app.Get("/healthz", func(c *fiber.Ctx) error { return healthz(c, h, cfg.SessionStore) })
	if m != nil {
		m.WatchHandler(h)
		if br != nil {
			m.WatchBridge(br)
		}
		if cfg.SessionStore != nil {
			m.WatchStore(cfg.SessionStore)
		}
		if cfg.MetricsAddr == "" {
			mh := m.Handler()
			app.Get(metrics.Path, func(c *fiber.Ctx) error { mh(c.Context()); return nil })
		}
	}
	// The MCP endpoint needs no Fiber middleware: serve it ahead of the
	// router, so the 404 fast path pays for no routing.
	app.Server().Handler = h.Route(app.Server().Handler)
	return &Server{cfg: cfg, mcp: srv, bridge: br, metrics: m, handler: h, app: app, verifier: verifier}
}

// newAuth returns the transport's authorization for c, and its verifier
// (nil, nil when c is off). It panics on an invalid c.
func newAuth(c *auth.Config) (*transport.Auth, *auth.Cache) {
	if !c.Enabled() {
		if err := c.Validate(); err != nil {
			panic("server: " + err.Error())
		}
		return nil, nil
	}
	v, err := c.NewVerifier()
	if err != nil {
		panic("server: " + err.Error())
	}
	return &transport.Auth{
		Verifier:             v,
		Resource:             c.Resource,
		AuthorizationServers: []string{c.Issuer},
		Scopes:               c.Scopes,
		ResourceName:         "mcpfiber",
	}, v
}

// healthz answers GET /healthz: 503 {"status":"draining"} once shutdown
// has begun, else 200 {"status":"ok","sessions":N}, N the sessions held
// on this node. With a session store it adds "store": {"up", "rttMs",
// "errors", "since", "lastError"}, and the status is "degraded" while
// Redis does not answer: still 200, since the sessions held here keep
// working (see the README's "Scale out").
func healthz(c *fiber.Ctx, h *transport.Handler, st *redisstore.Store) error {
	if h.Draining() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "draining"})
	}
	if st == nil {
		return c.JSON(fiber.Map{"status": "ok", "sessions": h.Sessions().Len()})
	}
	hs := st.Health()
	status := "ok"
	if !hs.Up {
		status = "degraded"
	}
	store := fiber.Map{"up": hs.Up, "rttMs": float64(hs.RTT.Microseconds()) / 1000, "errors": hs.Errors, "since": hs.Since.UTC().Format(time.RFC3339)}
	if hs.LastError != "" {
		store["lastError"] = hs.LastError
	}
	return c.JSON(fiber.Map{"status": status, "sessions": h.Sessions().Len(), "store": store})
}

// Handler returns the transport handler.
func (s *Server) Handler() *transport.Handler { return s.handler }

// Listen opens the listener on Config.Addr (with TLS when
// Config.TLSCertFile and TLSKeyFile are set), and the metrics listener on
// Config.MetricsAddr if it is host:port. The TCP listener is a
// transport.ConnListener with Config.MaxConnections and
// Config.WriteTimeout: it backs off instead of failing when accept runs
// out of descriptors. It fails if a key pair cannot be
// loaded or an address cannot be listened on. See also [Server.ListenOn].
func (s *Server) Listen() error {
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.listenOn(ln, tlsConfig)
}

// ListenOn is [Server.Listen] on ln, a listener the caller opened, in
// place of one on Config.Addr (then unused): ln is wrapped the same way,
// in a transport.ConnListener with Config's limits and then TLS if
// configured. Tests use it to serve on an in-memory listener
// (fasthttputil.NewInmemoryListener). The Server owns ln from then on:
// Shutdown closes it, and so does ListenOn if it fails.
func (s *Server) ListenOn(ln net.Listener) error {
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		ln.Close()
		return err
	}
	return s.listenOn(ln, tlsConfig)
}

// tlsConfig loads the key pair of Config.TLSCertFile and TLSKeyFile; it
// returns nil without them.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.cfg.TLSCertFile == "" && s.cfg.TLSKeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("server: TLS key pair: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

func (s *Server) listenOn(ln net.Listener, tlsConfig *tls.Config) error {
	// Inside TLS: tls.Conn sets deadlines on, and writes records to, it.
	conns := transport.NewListener(ln, &transport.ListenerOptions{
		MaxConnections: s.cfg.MaxConnections,
		WriteTimeout:   s.cfg.WriteTimeout,
		Logger:         s.cfg.Logger,
	})
	ln = conns
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	if s.metrics != nil && s.cfg.MetricsAddr != "" {
		ml, err := s.metrics.Listen(s.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: metrics listener: %w", err)
		}
		s.metricsLn = ml
	}
	if s.metrics != nil {
		s.metrics.WatchListener(conns)
	}
	s.ln, s.conns = ln, conns
	return nil
}

// MaxConnections returns the cap on open client connections in force
// (after Listen), 0 for none.
func (s *Server) MaxConnections() int { return s.conns.MaxConnections() }

// MetricsURL returns where the metrics are served (after Listen), or ""
// when they are off.
func (s *Server) MetricsURL() string {
	switch {
	case s.metrics == nil:
		return ""
	case s.metricsLn != nil:
		return "http://" + s.metricsLn.Addr().String() + metrics.Path
	}
	return s.baseURL() + metrics.Path
}

// Bridge returns the stdio bridge, or nil without Config.Stdio.
func (s *Server) Bridge() *bridge.Bridge { return s.bridge }

func (s *Server) baseURL() string {
	scheme := "http://"
	if s.cfg.TLSCertFile != "" {
		scheme = "https://"
	}
	return scheme + s.ln.Addr().String()
}

// Addr returns the listening address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the MCP endpoint's URL (after Listen).
func (s *Server) URL() string { return s.baseURL() + s.handler.Options().Path }

// Serve serves on the listener until Shutdown; it returns nil after a
// shutdown.
func (s *Server) Serve() error {
	if s.ln == nil {
		return errors.New("server: Serve before Listen")
	}
	if s.metricsLn != nil {
		go func() { // owner: Serve; exit: Shutdown stops the metrics listener
			if err := s.metricsLn.Serve(); err != nil {
				s.cfg.Logger.Error("metrics listener", "err", err)
			}
		}()
	}
	return s.app.Listener(s.ln)
}

// Shutdown stops the server in order, within Config.GracePeriod (or ctx,
// whichever ends first):
//
//  1. the transport drains (transport.Handler.Shutdown): /healthz answers
//     503, new sessions and GET streams get 503, GET streams are closed
//     spread over Config.DrainWindow with a jittered retry hint, POSTs in
//     flight run to completion and requests of live sessions are still
//     served, then every session ends here (with a session store they
//     live on for the other nodes);
//  2. meanwhile the listener stays open, so that a load balancer polling
//     /healthz sees the 503 and takes the node out: until the transport
//     has drained, and for at least Config.DrainDelay;
//  3. then the listener closes (fasthttp's ShutdownWithContext, which
//     waits for open connections and closes idle keep-alive ones), the
//     stdio bridge's children exit, the session store is closed;
//  4. Shutdown returns when all are done, or when the grace period ends.
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GracePeriod)
	defer cancel()
	delay := time.NewTimer(s.cfg.DrainDelay)
	defer delay.Stop()
	herr := s.handler.Shutdown(ctx, s.cfg.DrainWindow)
	select {
	case <-delay.C:
	case <-ctx.Done():
	}
	appErr := make(chan error, 1)
	go func() { appErr <- s.app.ShutdownWithContext(ctx) }() // owner: Shutdown; exit: ctx or all connections closed
	s.mcp.Close()                                            // tasks still running in the background
	var berr, merr error
	if s.bridge != nil {
		berr = s.bridge.Close(ctx) // the sessions ended: wait for their children to exit
	}
	if s.metricsLn != nil {
		merr = s.metricsLn.Shutdown(ctx)
	}
	aerr := <-appErr
	if s.verifier != nil {
		s.verifier.Close() // stops the key set's refresh
	}
	if s.cfg.SessionStore != nil {
		s.cfg.SessionStore.Close() // after the sessions' last touches (handler.Shutdown)
	}
	return errors.Join(herr, aerr, berr, merr)
}
