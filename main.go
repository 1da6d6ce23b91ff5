// Command mcpfiber serves the Model Context Protocol over Streamable HTTP,
// on Fiber v2 / fasthttp, with sessions that answer 404 at once when they
// are gone.
//
// Usage:
//
//	mcpfiber [flags]
//	mcpfiber [flags] --stdio -- <command> [args…]
//
// With --stdio it serves a stdio MCP server instead of its own tools: each
// session gets its own child process running the command (package
// bridge). In containers, MCPFIBER_STDIO_COMMAND carries the command as
// one string (shell-like words or a JSON array).
//
//	mcpfiber --stdio -- npx -y @modelcontextprotocol/server-everything
//	MCPFIBER_STDIO_COMMAND='uvx mcp-server-time' mcpfiber --addr 0.0.0.0:8080
//
// Every flag can also be set from the environment: --max-sessions is
// MCPFIBER_MAX_SESSIONS, and so on. Flags win over the environment.
//
//	mcpfiber --addr 127.0.0.1:8080 --path /mcp
//	MCPFIBER_SESSION_IDLE_TIMEOUT=10m mcpfiber
//
// It stops on SIGINT or SIGTERM, in the order that server.Server.Shutdown
// documents.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/bridge"
	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/server"
	"github.com/mcpfiber/mcpfiber/sessions"
	"github.com/mcpfiber/mcpfiber/transport"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "mcpfiber:", err)
		os.Exit(1)
	}
}

// redisConnectTimeout bounds the wait for Redis at start: the binary
// fails rather than serve without the store it was told to use.
const redisConnectTimeout = 10 * time.Second

func run(args []string) error {
	nofile, nofileErr := transport.RaiseOpenFileLimit() // before the default connection cap reads it
	fs := flag.NewFlagSet("mcpfiber", flag.ContinueOnError)
	var (
		addr        = fs.String("addr", server.DefaultAddr, "listen address (host:port); keep it on loopback unless auth is on (--auth-issuer) or in front")
		path        = fs.String("path", transport.DefaultPath, "MCP endpoint path")
		idle        = fs.Duration("session-idle-timeout", sessions.DefaultIdleTimeout, "end sessions idle for this long (0: default; negative: never)")
		maxSessions = fs.Int("max-sessions", sessions.DefaultMaxSessions, "cap on live sessions; past it initialize gets 503 (negative: no cap)")
		origins     = fs.String("allowed-origins", "", "comma-separated Origin allow-list (exact, scheme://host:* for any port, or *); empty: the localhost origins")
		jsonResp    = fs.Bool("json-response", false, "answer every POST with application/json, never text/event-stream")
		keepAlive   = fs.Duration("keep-alive", transport.DefaultKeepAlive, "interval of SSE keep-alive comments (negative: none)")
		drain       = fs.Duration("drain-window", transport.DefaultDrainWindow, "at shutdown, close SSE streams spread over this window")
		drainDelay  = fs.Duration("drain-delay", 0, "at shutdown, keep the listener open at least this long, /healthz answering 503, so that a load balancer takes the node out first")
		grace       = fs.Duration("grace-period", server.DefaultGracePeriod, "upper bound on the whole shutdown")
		logLevel    = fs.String("log-level", "info", "log level: debug, info, warn or error")
		catalogName = fs.String("catalog", "default", "feature set served: default (echo, progress), conformance (the official MCP conformance suite's tools, resources and prompts) or loadtest (default, and broadcast: a log message to every session, for loadtest getkill)")
		stateKey    = fs.String("state-key", "", "64 hex digits: the AES-256 key sealing 2026-07-28 requestState (share it between replicas); empty: a random key per process")
		stdio       = fs.Bool("stdio", false, "serve the stdio MCP server whose command follows -- (one child process per session) instead of --catalog")
		stdioCmd    = fs.String("stdio-command", "", "the stdio server's command as one string, shell-like words or a JSON array (the form for MCPFIBER_STDIO_COMMAND); implies --stdio")
		maxChildren = fs.Int("max-children", bridge.DefaultMaxChildren(), "with --stdio: cap on live child processes; past it initialize gets 503")
		tlsCert     = fs.String("tls-cert", "", "PEM certificate (chain) file: serve HTTPS (with --tls-key)")
		tlsKey      = fs.String("tls-key", "", "PEM private key file for --tls-cert")
		writeTO     = fs.Duration("write-timeout", transport.DefaultWriteTimeout, "disconnect a client that reads nothing of a response or stream for this long (negative: never)")
		maxConns    = fs.Int("max-connections", 0, "cap on open client connections; past it a new connection gets 503 and is closed (0: sized from the open-file limit; negative: no cap)")
		maxInSess   = fs.Int("max-inflight-per-session", transport.DefaultMaxInflightPerSession, "cap on one session's requests running at once; past it a POST gets 503 (negative: no cap)")
		maxIn       = fs.Int("max-inflight", transport.DefaultMaxInflight, "cap on requests running at once over all sessions; past it a POST gets 503 (negative: no cap)")
		callTO      = fs.Duration("call-timeout", transport.DefaultCallTimeout, "cancel a request running longer than this, as if the client had cancelled it, and answer it with an error (negative: no limit)")
		maxHeader   = fs.Int("max-header-bytes", transport.DefaultMaxHeaderBytes, "room for a request's line and headers; past it 431")
		streamLog   = fs.Int("max-stream-log-bytes", sessions.DefaultMaxStreamEventBytes, "bytes of events a resumable stream keeps for Last-Event-ID; oldest dropped first")
		sessionLog  = fs.Int("max-session-log-bytes", sessions.DefaultMaxSessionEventBytes, "bytes of events all of a session's resumable streams keep together; oldest dropped first")
		redisURL    = fs.String("redis-url", "", "keep sessions in Redis (redis://[user:pass@]host:port/db, rediss:// for TLS) so that every node on it serves every session; empty: in this process")
		metricsAddr = fs.String("metrics-addr", "", "Prometheus metrics: empty serves /metrics on --addr, host:port on a listener of their own, off for none")
		showVer     = fs.Bool("version", false, "print the version (module version, commit) and exit")

		authIssuer   = fs.String("auth-issuer", "", "OAuth authorization server (issuer URL; http:// only on loopback): turns on bearer-token authorization, keys from its RFC 8414 / OpenID metadata")
		authResource = fs.String("auth-resource", "", "this server's canonical resource URI, e.g. https://mcp.example.com/mcp, required in tokens' aud; required with --auth-issuer")
		authScopes   = fs.String("auth-scopes", "", "comma-separated scopes every request needs (default none)")
		authJWKS     = fs.String("auth-jwks-url", "", "JWKS URL overriding the issuer metadata's jwks_uri")
		authIntro    = fs.String("auth-introspection-url", "", "RFC 7662 introspection endpoint for opaque (non-JWT) tokens")
		authClientID = fs.String("auth-client-id", "", "client ID for --auth-introspection-url")
		authSecret   = fs.String("auth-client-secret", "", "client secret for --auth-introspection-url")
	)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(out, "Usage: mcpfiber [flags]\n\nServes MCP Streamable HTTP on one endpoint: 2026-07-28 statelessly, 2025-11-25, 2025-06-18 and 2025-03-26 with sessions.\n\nFlags (each also read from MCPFIBER_<NAME>, e.g. MCPFIBER_MAX_SESSIONS):\n")
		fs.PrintDefaults()
		fmt.Fprint(out, "\nExamples:\n  mcpfiber --addr 127.0.0.1:8080 --session-idle-timeout 10m\n  mcpfiber --stdio --max-children 16 -- npx -y @modelcontextprotocol/server-everything\n  mcpfiber --auth-issuer https://auth.example.com --auth-resource https://mcp.example.com/mcp --auth-scopes mcp\n")
	}
	if err := checkEnv(fs, "MCPFIBER", args); err != nil { // names the variable and its value
		return err
	}
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("MCPFIBER")); err != nil {
		return err
	}
	if *showVer {
		fmt.Println(version(debug.ReadBuildInfo()))
		return nil
	}
	var command []string
	switch rest := fs.Args(); {
	case *stdioCmd != "":
		if len(rest) > 0 {
			return errors.New("give the stdio command after -- or with --stdio-command, not both")
		}
		c, err := bridge.ParseCommand(*stdioCmd)
		if err != nil {
			return fmt.Errorf("--stdio-command: %w", err)
		}
		command = c
	case *stdio:
		if len(rest) == 0 {
			return errors.New("--stdio needs the command after --, e.g. mcpfiber --stdio -- npx -y @modelcontextprotocol/server-everything")
		}
		command = rest
	case len(rest) > 0:
		return fmt.Errorf("unexpected arguments %q; to serve a stdio MCP server: mcpfiber --stdio -- <command> [args…]", rest)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	logger.Debug("open-file limit", "soft", nofile, "err", nofileErr)

	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	if host, _, err := net.SplitHostPort(*addr); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && *authIssuer == "" {
			logger.Warn("listening beyond loopback: put authentication in front of this server", "addr", *addr)
		}
	}

	if _, err := catalog.Lookup(*catalogName); err != nil {
		return fmt.Errorf("--catalog: %w", err)
	}
	var key []byte
	if *stateKey != "" {
		k, err := hex.DecodeString(strings.TrimSpace(*stateKey))
		if err != nil || len(k) != mcp.StateKeySize {
			return fmt.Errorf("--state-key: want %d hex digits", 2*mcp.StateKeySize)
		}
		key = k
	}

	authCfg := auth.Config{
		Issuer:           strings.TrimSpace(*authIssuer),
		Resource:         strings.TrimSpace(*authResource),
		Scopes:           auth.SplitScopes(*authScopes),
		JWKSURL:          strings.TrimSpace(*authJWKS),
		IntrospectionURL: strings.TrimSpace(*authIntro),
		ClientID:         *authClientID,
		ClientSecret:     *authSecret,
	}
	if err := authCfg.Validate(); err != nil {
		return err
	}
	var store *redisstore.Store
	if *redisURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), redisConnectTimeout)
		st, err := redisstore.New(ctx, *redisURL, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		store = st
	}

	srv := server.New(server.Config{
		Auth:               authCfg,
		Addr:               *addr,
		Path:               *path,
		SessionIdleTimeout: *idle,
		MaxSessions:        *maxSessions,
		AllowedOrigins:     allowed,
		JSONResponse:       *jsonResp,
		KeepAlive:          *keepAlive,
		DrainWindow:        *drain,
		DrainDelay:         *drainDelay,
		GracePeriod:        *grace,
		Logger:             logger,
		Catalog:            *catalogName,
		StateKey:           key,
		Stdio:              command,
		MaxChildren:        *maxChildren,
		TLSCertFile:        *tlsCert,
		TLSKeyFile:         *tlsKey,
		MetricsAddr:        *metricsAddr,
		SessionStore:       store,

		WriteTimeout:          *writeTO,
		MaxConnections:        *maxConns,
		MaxInflightPerSession: *maxInSess,
		MaxInflight:           *maxIn,
		CallTimeout:           *callTO,
		MaxHeaderBytes:        *maxHeader,
		MaxStreamEventBytes:   *streamLog,
		MaxSessionEventBytes:  *sessionLog,
	})
	if err := srv.Listen(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }() // owner: run; exit: Shutdown closes the listener
	logger.Info("mcpfiber listening", "url", srv.URL(), "session_idle_timeout", *idle, "max_sessions", *maxSessions, "metrics", srv.MetricsURL(), "open_file_limit", nofile, "max_connections", srv.MaxConnections())
	if command != nil {
		logger.Info("serving a stdio MCP server, one child per session", "command", command, "max_children", *maxChildren)
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	stop()
	nSessions, nStreams := srv.Handler().Sessions().Len(), srv.Handler().OpenStreams() // what the shutdown drains
	logger.Info("shutting down", "sessions", nSessions, "streams", nStreams, "drain_window", *drain, "grace_period", *grace)
	start := time.Now()
	err := srv.Shutdown(context.Background())
	<-serveErr
	stopped := []any{"took", time.Since(start).Round(time.Millisecond), "sessions_drained", nSessions, "streams_drained", nStreams}
	if err != nil {
		logger.Warn("stopped", append(stopped, "err", err)...)
	} else {
		logger.Info("stopped", stopped...)
	}
	return nil
}
