package mcp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	json "github.com/goccy/go-json"
)

// A SessionState is what the method layer knows of one client: the
// negotiated version, the client's declared capabilities and info, its log
// level, and its requests in flight. The transport keeps one per session
// (2025-11-25 basic/lifecycle) and ends it with [SessionState.Close]. It
// is safe for concurrent use.
type SessionState struct {
	// ProtocolVersion is the negotiated revision.
	ProtocolVersion string
	// ClientInfo is the client's clientInfo, if it sent one.
	ClientInfo *Implementation
	// ClientCapabilities are the capabilities the client declared.
	ClientCapabilities ClientCapabilities

	ctx    context.Context // done when the session ends
	cancel context.CancelFunc

	initialized atomic.Bool  // notifications/initialized received
	logLevel    atomic.Int32 // minimum severity sent; 0 until logging/setLevel

	mu       sync.Mutex                    // guards inflight, onClose and out
	inflight map[string]context.CancelFunc // by raw request ID
	onClose  []func()
	out      Outbound // the session's GET stream, set by the transport
}

// SetOutbound sets where [SessionState.Send] delivers: the session's GET
// stream. The transport calls it when the session starts.
func (st *SessionState) SetOutbound(out Outbound) {
	st.mu.Lock()
	st.out = out
	st.mu.Unlock()
}

// Send sends a message that relates to no request of the client (a
// list_changed notification, a log message, a server-to-client request not
// made while handling a request) on the session's GET stream (2025-11-25
// basic/transports §Listening for Messages from the Server). Messages sent
// before the client opens the stream wait for it, within the stream's
// bound. Send never blocks; it fails once the session has ended.
func (st *SessionState) Send(msg []byte) error {
	st.mu.Lock()
	out := st.out
	st.mu.Unlock()
	if out == nil || st.ctx.Err() != nil {
		return ErrSessionEnded
	}
	return out.Send(msg)
}

// ErrSessionEnded is returned by [SessionState.Send] after the session
// ended (or before the transport set its outbound).
var ErrSessionEnded = errors.New("mcp: session ended")

// NewSessionState returns the state of a new session at the negotiated
// version. A [Backend] other than [Server] makes its sessions' states
// with it.
func NewSessionState(version string, info *Implementation, caps ClientCapabilities) *SessionState {
	ctx, cancel := context.WithCancel(context.Background())
	return &SessionState{
		ProtocolVersion:    version,
		ClientInfo:         info,
		ClientCapabilities: caps,
		ctx:                ctx,
		cancel:             cancel,
	}
}

// Context returns a context that is done when the session ends.
func (st *SessionState) Context() context.Context { return st.ctx }

// Close cancels every request in flight and runs the OnClose functions;
// the session has ended. Only the first call has an effect.
func (st *SessionState) Close() {
	st.cancel()
	st.mu.Lock()
	fns := st.onClose
	st.onClose = nil
	st.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// OnClose registers f to run when the session ends (at once if it has).
// A Backend uses it to release what it keeps per session.
func (st *SessionState) OnClose(f func()) {
	st.mu.Lock()
	if st.ctx.Err() == nil {
		st.onClose = append(st.onClose, f)
		st.mu.Unlock()
		return
	}
	st.mu.Unlock()
	f()
}

// Initialized reports whether the client sent notifications/initialized.
func (st *SessionState) Initialized() bool { return st.initialized.Load() }

// begin registers an in-flight request and returns its context, cancelled
// by notifications/cancelled for id or by the end of the session.
func (st *SessionState) begin(id json.RawMessage) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(st.ctx)
	st.mu.Lock()
	if st.inflight == nil {
		st.inflight = make(map[string]context.CancelFunc)
	}
	st.inflight[string(id)] = cancel
	st.mu.Unlock()
	return ctx, func() {
		st.mu.Lock()
		delete(st.inflight, string(id))
		st.mu.Unlock()
		cancel()
	}
}

// cancelRequest cancels the in-flight request with the raw ID id and
// reports whether there was one (2025-11-25 basic/utilities/cancellation:
// unknown or finished IDs are ignored).
func (st *SessionState) cancelRequest(id []byte) bool {
	st.mu.Lock()
	cancel := st.inflight[string(id)]
	st.mu.Unlock()
	if cancel == nil {
		return false
	}
	cancel()
	return true
}

// wants reports whether a log message at level passes the client's
// logging/setLevel filter.
func (st *SessionState) wants(level LoggingLevel) bool {
	return level.severity() >= st.logLevel.Load()
}
