package transport

import (
	"log/slog"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Options configure a [Handler]. A nil *Options means defaults; each zero
// field means its default.
type Options struct {
	// Path is the MCP endpoint that [Handler.Register] mounts. Default: "/mcp".
	Path string
	// Auth turns on bearer-token authorization (2025-11-25
	// basic/authorization): every POST, GET and DELETE needs a valid
	// access token, sessions are bound to their principal, and the
	// Protected Resource Metadata is served. See [Auth]. Default: nil,
	// no authorization.
	Auth *Auth
	// MaxBodyBytes bounds a POST body; a larger one gets 413. Default: 4 MiB.
	MaxBodyBytes int
	// AllowedOrigins lists the Origin values accepted (2025-11-25
	// basic/transports §Security Warning); a request whose Origin is present
	// and not listed gets 403. An entry is an exact origin
	// ("https://app.example.com"), an origin with any port
	// ("http://localhost:*"), or "*" for any. Requests without Origin are
	// always accepted. Default: the localhost origins, http and https, any
	// port ([DefaultAllowedOrigins]).
	AllowedOrigins []string
	// JSONResponse makes every POST that carries a request answer with
	// application/json, never text/event-stream; what a request sends
	// before its response then goes on the session's GET stream. Default:
	// false (a request that sends something first gets an SSE stream).
	JSONResponse bool
	// KeepAlive is the interval of SSE comment keep-alives on open streams.
	// Default: 15s. Negative: none.
	KeepAlive time.Duration
	// RetryHint is the SSE retry value, the reconnection delay sent in
	// priming events (sessions at 2025-11-25 or later) and at drain.
	// Default: 3s.
	RetryHint time.Duration
	// RetryAfter is the Retry-After sent with 503 when the session cap is
	// reached or the server is draining. Default: 5s.
	RetryAfter time.Duration
	// WriteTimeout bounds each write of a response, an SSE event or a
	// keep-alive to the client's connection: a client that reads nothing
	// for this long is disconnected and what was held for it is freed.
	// Default: 30s ([DefaultWriteTimeout]). Negative: none.
	WriteTimeout time.Duration
	// MaxInflightPerSession caps the requests of one session that run at
	// once (those not answered inline, such as tools/call); a POST past it
	// gets 503 with Retry-After and a JSON-RPC error. Default: 64.
	// Negative: no cap.
	MaxInflightPerSession int
	// MaxInflight caps the requests that run at once over all sessions and
	// 2026-07-28 requests; a POST past it gets 503 with Retry-After and a
	// JSON-RPC error. Default: 10 000. Negative: no cap.
	MaxInflight int
	// CallTimeout bounds how long a request may run: past it the request
	// is cancelled as if the client had sent notifications/cancelled
	// (2025-11-25 basic/utilities/cancellation), and the client gets a
	// JSON-RPC error in place of its response; one goroutine checks the
	// calls a tenth of CallTimeout apart (at most 1s), so a call ends up to
	// that much after it. Default: 10 min. Negative: no limit.
	CallTimeout time.Duration
	// MaxHeaderBytes is the room for a request's line and headers; [NewApp]
	// sizes fasthttp's read buffer with it. Past it a request gets 431
	// (414 when the request line alone does not fit). Default: 16 KiB.
	MaxHeaderBytes int
	// Sessions configure the session map the Handler owns.
	Sessions sessions.Options
	// OnBroadcast delivers a broadcast of the session store's log
	// (Sessions.Store a [sessions.BroadcastLog]: redisstore) to this
	// node's clients: server.New decodes it and calls
	// mcp.Server.NotifyAll. It runs on the store's consumer, one at a
	// time; the GET streams this node holds get what it sends
	// (mcp.HereSender), with the entry's position as their cursor.
	// Default: nil (the log's broadcasts are not delivered).
	OnBroadcast func(payload []byte)
	// ReplayBroadcast delivers a broadcast of the log to one session only,
	// with the filter OnBroadcast's delivery applies (mcp.Server.NotifyOne):
	// when this node takes a GET stream over, the broadcasts the client
	// missed while no node held it. Default: nil (none replayed).
	ReplayBroadcast func(st *mcp.SessionState, payload []byte)
	// Logger receives the transport's diagnostics. Default: slog.Default().
	Logger *slog.Logger
	// Observer is told of sessions, refusals, SSE streams and requests,
	// for metrics. Default: NopObserver.
	Observer Observer
}

// Defaults used where [Options] fields are zero.
const (
	DefaultPath         = "/mcp"
	DefaultMaxBodyBytes = 4 << 20
	DefaultKeepAlive    = 15 * time.Second
	DefaultRetryHint    = 3 * time.Second
	DefaultRetryAfter   = 5 * time.Second

	DefaultWriteTimeout          = 30 * time.Second
	DefaultMaxInflightPerSession = 64
	DefaultMaxInflight           = 10_000
	DefaultCallTimeout           = 10 * time.Minute
	DefaultMaxHeaderBytes        = 16 << 10
)

// DefaultAllowedOrigins are the origins accepted when
// Options.AllowedOrigins is empty: the local ones.
var DefaultAllowedOrigins = []string{
	"http://localhost:*", "https://localhost:*",
	"http://127.0.0.1:*", "https://127.0.0.1:*",
	"http://[::1]:*", "https://[::1]:*",
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	if r.MaxBodyBytes <= 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if len(r.AllowedOrigins) == 0 {
		r.AllowedOrigins = DefaultAllowedOrigins
	}
	if r.KeepAlive == 0 {
		r.KeepAlive = DefaultKeepAlive
	}
	if r.RetryHint <= 0 {
		r.RetryHint = DefaultRetryHint
	}
	if r.RetryAfter <= 0 {
		r.RetryAfter = DefaultRetryAfter
	}
	if r.WriteTimeout == 0 {
		r.WriteTimeout = DefaultWriteTimeout
	}
	if r.MaxInflightPerSession == 0 {
		r.MaxInflightPerSession = DefaultMaxInflightPerSession
	}
	if r.MaxInflight == 0 {
		r.MaxInflight = DefaultMaxInflight
	}
	if r.CallTimeout == 0 {
		r.CallTimeout = DefaultCallTimeout
	}
	if r.MaxHeaderBytes <= 0 {
		r.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Observer == nil {
		r.Observer = NopObserver{}
	}
	return r
}
