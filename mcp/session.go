package mcp

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A SessionState is what the method layer knows of one client: the
// negotiated version, the client's declared capabilities and info, its log
// level, its requests in flight, the requests the server sent it and its
// resource subscriptions. The transport keeps one per session (2025-11-25
// basic/lifecycle) and ends it with [SessionState.Close].
//
// A 2026-07-28 request has no session: the [Server] gives it a SessionState
// of its own, made from the request's _meta, that lives as long as the
// request ([SessionState.Stateless] reports true).
//
// [SessionState.Record] snapshots it as a [SessionRecord], and
// [RestoreSessionState] makes it again from one.
//
// It is safe for concurrent use.
type SessionState struct {
	// ProtocolVersion is the negotiated revision.
	ProtocolVersion string
	// ClientInfo is the client's clientInfo, if it sent one.
	ClientInfo *Implementation
	// ClientCapabilities are the capabilities the client declared.
	ClientCapabilities ClientCapabilities

	ctx    context.Context // done when the session ends
	cancel context.CancelFunc

	principal      *Principal    // who the session is bound to; set at construction or by SetPrincipal before the session is published, then read-only
	stateless      bool          // a 2026-07-28 request's own state
	requestTimeout time.Duration // bound on server-to-client requests sent by SessionState methods
	initialized    atomic.Bool   // notifications/initialized received
	logLevel       atomic.Int32  // minimum severity sent; 0 until logging/setLevel
	nextID         atomic.Int64  // IDs of server-to-client requests
	idPrefix       string        // ServerOptions.RequestIDPrefix; set at construction
	revision       atomic.Uint64 // bumped by every change a SessionRecord shows; see Revision
	announced      atomic.Uint64 // bumped by the changes other processes must learn at once; see AnnounceRevision

	mu       sync.Mutex           // guards the fields below
	inflight map[string]*inflight // by raw request ID
	pending  map[string]chan *jsonrpc.Message
	subs     map[string]struct{} // resources/subscribe URIs
	onClose  []func()            // onCloseA's until it grows
	onCloseA [2]func()           // a Server's session has two OnClose functions: the Server's and the transport's
	out      Outbound            // the session's GET stream, set by the transport
	relay    func([]byte)        // SetRelay's
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
// bound. Send never blocks; it fails once the session has ended, and for
// a stateless request's state.
func (st *SessionState) Send(msg []byte) error {
	st.mu.Lock()
	out := st.out
	st.mu.Unlock()
	if out == nil || st.ctx.Err() != nil {
		return ErrSessionEnded
	}
	return out.Send(msg)
}

// A HereSender is an [Outbound] that can tell a message every process of
// a deployment sends to its own clients (a list_changed, a
// resources/updated: see [Server.NotifyAll]) from one meant for this
// session only: SendHere delivers the first kind only if the session's GET
// stream is open in this process, since the process holding it sends the
// same; Send delivers the second kind wherever the stream is.
type HereSender interface {
	SendHere(msg []byte) error
}

// sendHere sends msg, a notification every process of the deployment
// sends, through the outbound's SendHere if it has one.
func (st *SessionState) sendHere(msg []byte) error {
	st.mu.Lock()
	out := st.out
	st.mu.Unlock()
	if out == nil || st.ctx.Err() != nil {
		return ErrSessionEnded
	}
	if h, ok := out.(HereSender); ok {
		return h.SendHere(msg)
	}
	return out.Send(msg)
}

// hasOutbound reports whether the transport has set the session's
// outbound, so that Send can deliver.
func (st *SessionState) hasOutbound() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.out != nil
}

// ErrSessionEnded is returned by [SessionState.Send] after the session
// ended (or before the transport set its outbound).
var ErrSessionEnded = errors.New("mcp: session ended")

// NewSessionState returns the state of a new session at the negotiated
// version. A [Backend] other than [Server] makes its sessions' states
// with it.
func NewSessionState(version string, info *Implementation, caps ClientCapabilities) *SessionState {
	st := new(SessionState)
	st.init(version, info, caps)
	return st
}

// init makes st, which is zero, the state of a new session, as
// NewSessionState does, for a caller that allocates st with something
// else (see [Server.Initialize]).
func (st *SessionState) init(version string, info *Implementation, caps ClientCapabilities) {
	st.ProtocolVersion, st.ClientInfo, st.ClientCapabilities = version, info, caps
	st.ctx, st.cancel = context.WithCancel(context.Background())
	st.onClose = st.onCloseA[:0]
}

// newStatelessState returns the state of one 2026-07-28 request, done
// when parent is: r holds what the request's _meta declares (version,
// client info and capabilities, log level).
func newStatelessState(parent context.Context, r *SessionRecord) *SessionState {
	ctx, cancel := context.WithCancel(parent)
	st := &SessionState{
		ProtocolVersion:    r.ProtocolVersion,
		ClientInfo:         r.ClientInfo,
		ClientCapabilities: r.ClientCapabilities,
		ctx:                ctx,
		cancel:             cancel,
		stateless:          true,
		principal:          r.Principal,
	}
	if sev := r.LogLevel.severity(); sev > 0 {
		st.logLevel.Store(sev)
	} else {
		// No logLevel in _meta: no notifications/message at all (2026-07-28
		// changelog: "servers MUST NOT emit notifications/message for
		// requests that did not include this field").
		st.logLevel.Store(logOff)
	}
	return st
}

// logOff is above every severity: nothing is logged.
const logOff = 99

// Context returns a context that is done when the session ends.
func (st *SessionState) Context() context.Context { return st.ctx }

// Principal returns who the session is bound to, or nil (see
// [SessionRecord].Principal). The result is read-only.
func (st *SessionState) Principal() *Principal { return st.principal }

// Stateless reports whether st is the state of one 2026-07-28 request
// rather than of a session.
func (st *SessionState) Stateless() bool { return st.stateless }

// Close cancels every request in flight and runs the OnClose functions;
// the session has ended. Only the first call has an effect.
func (st *SessionState) Close() {
	st.cancel()
	st.mu.Lock()
	fns := st.onClose
	st.onClose = nil
	for _, r := range st.inflight { // their contexts are not st.ctx's children (beginIn)
		r.cancelContext()
	}
	st.mu.Unlock()
	for i, f := range fns {
		fns[i] = nil // onCloseA may outlive the functions: let them go
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

// MarkInitialized records that the client is past initialization
// without its notifications/initialized having reached this process: a
// transport whose processes share sessions calls it when the client
// opens the session's GET stream, which a client does once initialized
// (2025-11-25 basic/lifecycle §Initialization), while another process
// may have received the notification and not yet saved it.
func (st *SessionState) MarkInitialized() {
	if !st.initialized.Swap(true) {
		st.changed(false)
	}
}

// Initialized reports whether the client sent notifications/initialized.
func (st *SessionState) Initialized() bool { return st.initialized.Load() }

// begin registers an in-flight request and returns its context, cancelled
// by notifications/cancelled for id or by the end of the session, and the
// function that ends it. See [SessionState.beginIn] for a caller that
// has a place for the record.
func (st *SessionState) begin(id json.RawMessage) (context.Context, func()) {
	r := new(inflight)
	return st.beginIn(id, r), r.end
}

// An inflight records one in-flight request of a session, from
// [SessionState.beginIn] to its end; callers embed it in what they
// allocate for the request anyway, and with it the request's context.
type inflight struct {
	st         *SessionState
	id         string             // aliases the request's ID
	ctx        requestContext     // the request's context, unless cancel is set
	cancel     context.CancelFunc // cancels the request's context when it is a child of the session's (see beginIn)
	registered bool               // in st.inflight: not a second request of an ID in flight
}

// beginIn is begin with the record in r: it registers an in-flight
// request and returns its context, cancelled by notifications/cancelled
// for id or by the end of the session; r.end ends it. The registration
// aliases id, which must not change until r.end. The context is r's own
// (a [requestContext]), so beginIn allocates nothing beyond a first
// registration's map.
//
// A session's request context is not a child of the session's context:
// Close cancels the requests it finds registered, which spares every
// request the registration with the session's context and its removal
// (a lock and a map write each). A request whose ID is in flight
// already (a client reusing an ID) is a child all the same
// (context.WithCancel, two allocations), and is not registered
// (notifications/cancelled names the first); a 2026-07-28 request's
// context derives from its own.
func (st *SessionState) beginIn(id json.RawMessage, r *inflight) context.Context {
	r.st, r.id = st, unsafe.String(unsafe.SliceData(id), len(id))
	st.mu.Lock()
	_, dup := st.inflight[r.id]
	var ctx context.Context = &r.ctx
	if dup || st.stateless {
		ctx, r.cancel = context.WithCancel(st.ctx)
	}
	r.registered = !dup
	if !dup { // a second request of an ID in flight is not the one notifications/cancelled names
		if st.inflight == nil {
			st.inflight = make(map[string]*inflight)
		}
		st.inflight[r.id] = r
	}
	ended := st.ctx.Err() != nil // Close ran before the registration
	st.mu.Unlock()
	if ended {
		r.cancelContext()
	}
	return ctx
}

// cancelContext cancels the request's context. It is safe to call more
// than once, and concurrently with end.
func (r *inflight) cancelContext() {
	if r.cancel != nil {
		r.cancel()
		return
	}
	r.ctx.cancel()
}

// end unregisters the request and cancels its context.
func (r *inflight) end() {
	if r.registered {
		r.st.mu.Lock()
		delete(r.st.inflight, r.id)
		r.st.mu.Unlock()
	}
	r.cancelContext()
}

// cancelRequest cancels the in-flight request with the raw ID id and
// reports whether there was one (2025-11-25 basic/utilities/cancellation:
// unknown or finished IDs are ignored).
func (st *SessionState) cancelRequest(id []byte) bool {
	st.mu.Lock()
	r := st.inflight[string(id)]
	st.mu.Unlock()
	if r == nil {
		return false
	}
	r.cancelContext()
	return true
}

// wants reports whether a log message at level passes the client's
// logging/setLevel filter (or, at 2026-07-28, the request's logLevel).
func (st *SessionState) wants(level LoggingLevel) bool {
	return level.severity() >= st.logLevel.Load()
}

// newRequest registers a server-to-client request and returns its raw ID
// and the channel its response arrives on.
func (st *SessionState) newRequest() (id []byte, ch chan *jsonrpc.Message) {
	if st.idPrefix != "" {
		id = append(id, '"')
		id = append(id, st.idPrefix...)
		id = strconv.AppendInt(id, st.nextID.Add(1), 10)
		id = append(id, '"')
	} else {
		id = strconv.AppendInt(nil, st.nextID.Add(1), 10)
	}
	ch = make(chan *jsonrpc.Message, 1)
	st.mu.Lock()
	if st.pending == nil {
		st.pending = make(map[string]chan *jsonrpc.Message)
	}
	st.pending[string(id)] = ch
	st.mu.Unlock()
	return id, ch
}

// forget drops a server-to-client request that will not be answered.
func (st *SessionState) forget(id []byte) {
	st.mu.Lock()
	delete(st.pending, string(id))
	st.mu.Unlock()
}

// deliver routes a response from the client to the request waiting for
// it, and reports whether one was. Responses to unknown IDs (timed out,
// or never sent) are dropped.
func (st *SessionState) deliver(m *jsonrpc.Message) bool {
	st.mu.Lock()
	ch := st.pending[string(m.ID)]
	delete(st.pending, string(m.ID))
	st.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- m // buffered, and only one sender: the entry was removed
	return true
}

// Deliver passes a response from the client to the request this process
// sent and waits for, and reports whether there was one. It is for a
// transport relaying between processes that serve one session (see
// [SessionState.SetRelay]); a response that matches nothing is dropped.
func (st *SessionState) Deliver(m *jsonrpc.Message) bool { return st.deliver(m) }

// Cancel cancels the request with the raw JSON-RPC ID id running in this
// process, as notifications/cancelled does (2025-11-25
// basic/utilities/cancellation), and reports whether there was one.
func (st *SessionState) Cancel(id json.RawMessage) bool { return st.cancelRequest(id) }

// SetRelay sets f to take the messages of the client that concern
// another process serving the same session: a response that matches no
// request this process sent, a notifications/cancelled for a request not
// running here. f gets the message encoded and owns it; it runs on the
// goroutine that received the message, before the client is answered,
// so it may take one round trip to pass it on, no more. The other
// process passes it to [SessionState.Deliver] or [SessionState.Cancel].
// Without a relay such messages are dropped.
func (st *SessionState) SetRelay(f func(msg []byte)) {
	st.mu.Lock()
	st.relay = f
	st.mu.Unlock()
}

func (st *SessionState) relayFunc() func([]byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.relay
}

// subscribe adds uri to the session's resource subscriptions.
func (st *SessionState) subscribe(uri string) {
	st.mu.Lock()
	if st.subs == nil {
		st.subs = make(map[string]struct{})
	}
	st.subs[uri] = struct{}{}
	st.mu.Unlock()
	st.changed(true)
}

// unsubscribe removes uri from the session's resource subscriptions.
func (st *SessionState) unsubscribe(uri string) {
	st.mu.Lock()
	delete(st.subs, uri)
	st.mu.Unlock()
	st.changed(true)
}

// changed counts a change to what the record shows; announce: one that
// other processes serving the session must learn at once.
func (st *SessionState) changed(announce bool) {
	if announce {
		st.announced.Add(1)
	}
	st.revision.Add(1)
}

// AnnounceRevision counts the changes to the record that other processes
// serving the session must learn at once, because they change what those
// processes send it: the log level and the subscriptions. The initialized
// flag is not one (the client sends it once, right after initialize, and
// a process reads it from the record when it first serves the session).
// It does not allocate.
func (st *SessionState) AnnounceRevision() uint64 { return st.announced.Load() }

// Revision counts the changes to what [SessionState.Record] shows (the
// initialized flag, log level and subscriptions) since the state was
// made: a session store compares it with the revision it last saved to
// know whether the record must be written again. It does not allocate.
func (st *SessionState) Revision() uint64 { return st.revision.Load() }

// Apply replaces the initialized flag, log level and subscriptions with
// r's, as another node changed them (a session store calls it when it
// learns of the change). The rest of r (the ID, version, client info and
// capabilities, principal) is fixed at initialize and ignored. Apply does
// not bump [SessionState.Revision]: the change is already stored.
func (st *SessionState) Apply(r *SessionRecord) {
	st.initialized.Store(r.Initialized)
	st.logLevel.Store(r.LogLevel.severity())
	subs := make(map[string]struct{}, len(r.Subscriptions))
	for _, uri := range r.Subscriptions {
		subs[uri] = struct{}{}
	}
	st.mu.Lock()
	st.subs = subs
	st.mu.Unlock()
}

// subscribed reports whether the session subscribed to uri.
func (st *SessionState) subscribed(uri string) bool {
	st.mu.Lock()
	_, ok := st.subs[uri]
	st.mu.Unlock()
	return ok
}
