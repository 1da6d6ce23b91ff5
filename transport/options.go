package transport

import (
	"log/slog"
	"time"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Options configure a [Handler]. A nil *Options means defaults; each zero
// field means its default.
type Options struct {
	// Path is the MCP endpoint that [Handler.Register] mounts. Default: "/mcp".
	Path string
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
	// Sessions configure the session map the Handler owns.
	Sessions sessions.Options
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
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Observer == nil {
		r.Observer = NopObserver{}
	}
	return r
}
