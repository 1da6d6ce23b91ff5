// Package server assembles the mcpfiber binary's server: an [mcp.Server]
// with a tool catalogue, the Streamable HTTP [transport.Handler], a Fiber
// app with /healthz, a loopback-by-default listener, and the ordered
// shutdown. Tests and benchmarks start the same server in-process.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/mcp"
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
	// GracePeriod bounds the whole shutdown. Default: 15s.
	GracePeriod time.Duration
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// Catalog names the feature set served, one of catalog.Names:
	// "default" (echo, progress) or "conformance" (what the official MCP
	// conformance suite calls). Default: "default". New panics on an
	// unknown name; check it with catalog.Lookup first.
	Catalog string
	// StateKey is the 32-byte key that seals the requestState of
	// 2026-07-28 input-required results (mcp.ServerOptions.StateKey).
	// Default: a random key per process.
	StateKey []byte
}

// Defaults for [Config].
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultGracePeriod = 15 * time.Second
)

// A Server is a configured mcpfiber server.
type Server struct {
	cfg     Config
	mcp     *mcp.Server
	handler *transport.Handler
	app     *fiber.App
	ln      net.Listener
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
	opts := &mcp.ServerOptions{Logger: cfg.Logger, StateKey: cfg.StateKey}
	cat.Options(opts)
	srv := mcp.NewServer(mcp.Implementation{Name: "mcpfiber", Version: Version}, opts)
	cat.Register(srv)
	h := transport.NewHandler(srv, &transport.Options{
		Path:           cfg.Path,
		AllowedOrigins: cfg.AllowedOrigins,
		JSONResponse:   cfg.JSONResponse,
		KeepAlive:      cfg.KeepAlive,
		Logger:         cfg.Logger,
		Sessions: sessions.Options{
			IdleTimeout: cfg.SessionIdleTimeout,
			MaxSessions: cfg.MaxSessions,
		},
	})
	app := transport.NewApp(h)
	app.Get("/healthz", func(c *fiber.Ctx) error {
		if h.Draining() {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "draining"})
		}
		return c.JSON(fiber.Map{"status": "ok", "sessions": h.Sessions().Len()})
	})
	return &Server{cfg: cfg, mcp: srv, handler: h, app: app}
}

// Handler returns the transport handler.
func (s *Server) Handler() *transport.Handler { return s.handler }

// Listen opens the listener on Config.Addr.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr returns the listening address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the MCP endpoint's URL (after Listen).
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + s.handler.Options().Path }

// Serve serves on the listener until Shutdown; it returns nil after a
// shutdown.
func (s *Server) Serve() error {
	if s.ln == nil {
		return errors.New("server: Serve before Listen")
	}
	return s.app.Listener(s.ln)
}

// Shutdown stops the server in order, within Config.GracePeriod (or ctx,
// whichever ends first):
//
//  1. the listener closes: no new connections (fasthttp's
//     ShutdownWithContext, which then waits for open connections and
//     closes idle keep-alive ones);
//  2. at the same time the transport drains (transport.Handler.Shutdown):
//     503 for new sessions and GET streams, GET streams closed spread over
//     Config.DrainWindow with a jittered retry hint, POSTs in flight run
//     to completion, then every session ends;
//  3. Shutdown returns when both are done, or when the grace period ends.
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GracePeriod)
	defer cancel()
	appErr := make(chan error, 1)
	go func() { appErr <- s.app.ShutdownWithContext(ctx) }() // owner: Shutdown; exit: ctx or all connections closed
	herr := s.handler.Shutdown(ctx, s.cfg.DrainWindow)
	s.mcp.Close() // tasks still running in the background
	return errors.Join(herr, <-appErr)
}
