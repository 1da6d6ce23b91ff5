package bridge

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// Options configure a [Bridge]. A nil *Options means defaults; each zero
// field means its default.
type Options struct {
	// Env is added to the server's own environment for each child
	// ("KEY=value"; later entries win). Optional.
	Env []string
	// Dir is the children's working directory. Default: the server's.
	Dir string
	// MaxChildren caps live children; past it initialize gets 503 with
	// Retry-After. Default: 8 × GOMAXPROCS (16 on a 2-core box).
	MaxChildren int
	// InitTimeout bounds the wait for the child's initialize result, start
	// included (an `npx -y` child may fetch its package first). Default: 30s.
	InitTimeout time.Duration
	// StopTimeout is how long a child has to exit after its stdin is
	// closed, and again after SIGTERM, before SIGKILL. Default: 2s.
	StopTimeout time.Duration
	// MaxMessageBytes bounds one line (one JSON-RPC message) on the
	// child's stdout; a longer one ends the session. Default: 16 MiB.
	MaxMessageBytes int
	// MaxPendingMessages bounds the messages a child sends before its
	// session's GET stream can take them (before the session exists);
	// past it the oldest are dropped. Default: 256.
	MaxPendingMessages int
	// StderrLinesPerSecond bounds the stderr lines logged per child and
	// second; the rest are counted, and the count is logged with the next
	// line after the second, or when the child exits. Default: 50.
	StderrLinesPerSecond int
	// Logger receives stderr lines and lifecycle events. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Defaults used where [Options] fields are zero.
const (
	DefaultInitTimeout          = 30 * time.Second
	DefaultStopTimeout          = 2 * time.Second
	DefaultMaxMessageBytes      = 16 << 20
	DefaultMaxPendingMessages   = 256
	DefaultStderrLinesPerSecond = 50
)

// DefaultMaxChildren returns the default cap on live children: 8 per CPU
// the Go runtime may use (GOMAXPROCS), 16 on a 2-core box. A Node.js MCP
// server idles at 40–80 MB of memory and spends its CPU at start-up.
func DefaultMaxChildren() int { return 8 * runtime.GOMAXPROCS(0) }

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxChildren <= 0 {
		r.MaxChildren = DefaultMaxChildren()
	}
	if r.InitTimeout <= 0 {
		r.InitTimeout = DefaultInitTimeout
	}
	if r.StopTimeout <= 0 {
		r.StopTimeout = DefaultStopTimeout
	}
	if r.MaxMessageBytes <= 0 {
		r.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if r.MaxPendingMessages <= 0 {
		r.MaxPendingMessages = DefaultMaxPendingMessages
	}
	if r.StderrLinesPerSecond <= 0 {
		r.StderrLinesPerSecond = DefaultStderrLinesPerSecond
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	return r
}

// A Bridge is an [mcp.Backend] that serves each session from its own
// child process speaking MCP over stdio (2025-11-25 basic/transports
// §stdio): the child is the session's [mcp.Conn]. See the package
// documentation for how messages travel. It is safe for concurrent use and
// must not be copied.
type Bridge struct {
	command []string
	opts    Options
	log     *slog.Logger

	live     atomic.Int64 // children holding a slot: started and not yet reaped
	started  atomic.Int64
	refused  atomic.Int64
	failed   atomic.Int64
	exited   atomic.Int64 // exited on their own (or crashed)
	stopped  atomic.Int64 // stopped because their session ended
	children mcp.ConnSet  // every child not yet reaped, and every child goroutine
}

// New returns a Bridge that runs command (the program, then its
// arguments) for each session. A nil opts means defaults. It starts
// nothing until a client initializes. It fails only if command is empty.
func New(command []string, opts *Options) (*Bridge, error) {
	if len(command) == 0 || command[0] == "" {
		return nil, errors.New("bridge: no command to run")
	}
	b := &Bridge{
		command: append([]string(nil), command...),
		opts:    opts.withDefaults(),
	}
	b.log = b.opts.Logger.With("component", "bridge")
	return b, nil
}

// Command returns the command each child runs.
func (b *Bridge) Command() []string { return append([]string(nil), b.command...) }

// Options returns the options in force, defaults filled in.
func (b *Bridge) Options() Options { return b.opts }

// Stats are counts of a Bridge's children, for metrics.
type Stats struct {
	Live    int64 // children running (or being reaped), at most MaxChildren
	Started int64 // children started
	Refused int64 // initializes refused at the cap (503)
	Failed  int64 // children that could not start or did not initialize
	Exited  int64 // children that exited on their own: their session ended
	Stopped int64 // children stopped because their session ended
}

// Stats returns the counts so far. It does not allocate.
func (b *Bridge) Stats() Stats {
	return Stats{
		Live:    b.live.Load(),
		Started: b.started.Load(),
		Refused: b.refused.Load(),
		Failed:  b.failed.Load(),
		Exited:  b.exited.Load(),
		Stopped: b.stopped.Load(),
	}
}

// Initialize starts a child, forwards the client's initialize to it and
// returns the child's result and the child, as the session's [mcp.Conn]
// (2025-11-25 basic/lifecycle §Initialization). Errors:
// [mcp.ErrUnavailable] past MaxChildren or
// while closing; CodeInvalidParams for params without a protocolVersion;
// the child's own error, passed through; CodeInternalError when the child
// cannot start, exits or times out first, or answers a protocol version
// the transport does not serve.
func (b *Bridge) Initialize(params json.RawMessage) ([]byte, mcp.Conn, *jsonrpc.Error) {
	var p mcp.InitializeParams
	if len(params) == 0 || jsonrpc.Unmarshal(params, &p) != nil || p.ProtocolVersion == "" {
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: initialize needs params with a protocolVersion string")
	}
	if b.children.Closing() {
		return nil, nil, mcp.ErrUnavailable
	}
	if n := b.live.Add(1); n > int64(b.opts.MaxChildren) {
		b.live.Add(-1)
		b.refused.Add(1)
		return nil, nil, mcp.ErrUnavailable
	}
	c, err := b.start()
	if err != nil {
		b.live.Add(-1)
		b.failed.Add(1)
		b.log.Error("cannot start the stdio server", "command", b.command, "err", err)
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: cannot start the stdio server")
	}
	b.started.Add(1)

	result, version, jerr := c.initialize(params, b.opts.InitTimeout)
	if jerr != nil {
		b.failed.Add(1)
		c.stop()
		return nil, nil, jerr
	}
	var caps mcp.ClientCapabilities
	if len(p.Capabilities) > 0 {
		_ = jsonrpc.Unmarshal(p.Capabilities, &caps) // unknown shapes declare nothing
	}
	st := mcp.NewSessionState(version, p.ClientInfo, caps)
	if !c.bind(st) {
		b.failed.Add(1)
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the stdio server exited during initialize")
	}
	return result, c, nil
}

// Inline reports false: every request waits for the child on its own
// goroutine, so that what the child sends first can stream.
func (b *Bridge) Inline(method string) bool { return false }

// Close refuses new sessions, stops every child (ending its session) and
// waits until they have exited and every goroutine of the Bridge has
// returned, or ctx ends (then it returns ctx.Err()). Sessions normally end
// first (the transport's Shutdown), which stops their children already.
func (b *Bridge) Close(ctx context.Context) error { return b.children.Close(ctx) }

// goTracked runs f on a goroutine that Close waits for.
func (b *Bridge) goTracked(f func()) { b.children.Go(f) }

var (
	errChildGone     = jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the stdio server exited")
	errDuplicateID   = jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: a request with this id is already in flight in this session")
	progressTokenKey = []byte(`"progressToken"`)
)

// progressToken returns the raw _meta.progressToken of request params, or
// nil. It decodes only when the params mention one.
func progressToken(params []byte) []byte {
	if !bytes.Contains(params, progressTokenKey) {
		return nil
	}
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if jsonrpc.Unmarshal(params, &p) != nil || string(p.Meta.ProgressToken) == "null" {
		return nil
	}
	return p.Meta.ProgressToken
}

// Interface guards.
var (
	_ mcp.Backend        = (*Bridge)(nil)
	_ mcp.Conn           = (*child)(nil)
	_ mcp.SessionStarter = (*child)(nil)
)
