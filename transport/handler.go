package transport

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	"github.com/puzpuzpuz/xsync/v3"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// A Handler serves the MCP Streamable HTTP transport (POST, GET, DELETE on
// one endpoint) for an [mcp.Backend] (usually an [*mcp.Server]), as defined by 2025-11-25
// basic/transports §Streamable HTTP. It owns the session map. It is safe
// for concurrent use and must not be copied.
type Handler struct {
	backend  mcp.Backend
	inliner  mcp.InlineCaller // the backend, if some of its requests are inline by their params
	sessions *sessions.Map
	relay    sessions.Relay     // the session store, if it relays between nodes (relay.go)
	claims   sessions.GETClaims // the session store, if it keeps GET stream claims (getclaims.go)
	node     uint32             // this node's number, with claims (sessions.EventStore)
	// blog is the store's broadcast log, with claims (broadcast.go).
	blog sessions.BroadcastLog
	// bcur is the position of the broadcast being delivered (nil or
	// zero: not from the log). It is set within OnBroadcast and
	// PauseBroadcasts, which run one at a time, and read by SendHere.
	bcur     atomic.Pointer[sessions.Cursor]
	opts     Options
	observed bool // opts.Observer is not NopObserver: refusals are reported
	origins  originMatcher
	log      *slog.Logger
	auth     *authState // Options.Auth; nil: no authorization (auth.go)

	// Shutdown state; see Shutdown.
	draining atomic.Bool
	drain    chan struct{} // closed when draining starts
	stop     chan struct{} // closed when the grace period ends: requests still running are answered with an error
	halt     chan struct{} // closed once the answers had their moment: every writer exits
	drainCfg atomic.Int64  // drain window in nanoseconds, set before drain is closed
	calls    tracker       // tool calls running
	workers  *workers      // goroutines that run calls, kept for reuse
	sse      sseRegistry   // GET streams on hijacked connections

	// Bounds on work; see limits.go.
	inflight  atomic.Int64                                   // requests running on workers, all sessions and 2026-07-28
	slots     *xsync.MapOf[*sessions.Session, *sessionSlots] // each session's requests running on workers; removed at its end
	lim       limitTexts                                     // the refusals and the timeout error
	flights   *xsync.MapOf[*flight, struct{}]                // requests running on workers, for Shutdown and expireFlights
	sweepOnce sync.Once                                      // starts expireFlights

	// hijackKept: the fasthttp server keeps hijacked connections open
	// (KeepHijackedConns; NewApp sets both), so a GET stream needs no
	// goroutine of its own.
	hijackKept atomic.Bool
	writers    tracker    // SSE writers (fasthttp stream-writer goroutines)
	lost       lostEvents // events dropped before they were written; see warnLost
	once       sync.Once  // guards Shutdown
}

// NewHandler returns a Handler serving b, with a session map made from
// opts.Sessions. A nil opts means defaults.
func NewHandler(b mcp.Backend, opts *Options) *Handler {
	h := &Handler{
		backend: b,
		opts:    opts.withDefaults(),
		drain:   make(chan struct{}),
		stop:    make(chan struct{}),
		halt:    make(chan struct{}),
	}
	h.inliner, _ = b.(mcp.InlineCaller)
	_, nop := h.opts.Observer.(NopObserver)
	h.observed = !nop
	h.workers = newWorkers(h.stop)
	h.slots = xsync.NewMapOf[*sessions.Session, *sessionSlots]()
	h.lim = newLimitTexts(&h.opts)
	h.flights = xsync.NewMapOf[*flight, struct{}]()
	h.origins = newOriginMatcher(h.opts.AllowedOrigins)
	h.auth = newAuthState(h.opts.Auth, b)
	h.log = h.opts.Logger
	so := h.opts.Sessions
	userOnEnd := so.OnEnd
	so.OnEnd = func(s *sessions.Session, r sessions.EndReason) {
		h.opts.Observer.SessionEnded(r)
		h.slots.Delete(s)
		if c := s.Conn(); c != nil {
			c.Close()
		}
		if userOnEnd != nil {
			userOnEnd(s, r)
		}
	}
	if so.Store != nil && so.Restore == nil {
		if r, ok := b.(mcp.Restorer); ok {
			so.Restore = h.restorer(r)
		}
	}
	if r, ok := so.Store.(sessions.Relay); ok {
		h.relay = r
		r.OnRelay(h.relayed)
	}
	if c, ok := so.Store.(sessions.GETClaims); ok {
		if es, ok := so.Store.(sessions.EventStore); ok {
			h.claims, h.node = c, es.Node()
			c.OnStandalone(h.standaloneRelayed)
			c.OnLostGET(h.lostGET)
			if bl, ok := so.Store.(sessions.BroadcastLog); ok {
				h.blog = bl
				bl.OnBroadcast(h.broadcastArrived)
			}
		}
	}
	h.sessions = sessions.New(&so)
	return h
}

// restorer returns the sessions.Options.Restore of a backend that can
// rebuild sessions other nodes started: the Conn is wired to s as
// initialize wires a new session's (see initialize), without an
// initialize result.
func (h *Handler) restorer(r mcp.Restorer) func(*sessions.Session, *mcp.SessionRecord) (mcp.Conn, error) {
	return func(s *sessions.Session, rec *mcp.SessionRecord) (mcp.Conn, error) {
		conn, err := r.Restore(rec)
		if err != nil {
			return nil, err
		}
		st := conn.State()
		st.SetOutbound(standaloneOutbound{h, s})
		h.wireRelay(s, st)
		st.OnClose(func() { s.End(sessions.EndClosed) })
		if ss, ok := conn.(mcp.SessionStarter); ok {
			ss.SessionStarted(s.ID())
		}
		return conn, nil
	}
}

// Sessions returns the session map the Handler owns.
func (h *Handler) Sessions() *sessions.Map { return h.sessions }

// Options returns the options in force, defaults filled in.
func (h *Handler) Options() Options { return h.opts }

// Register mounts the Handler on r at Options.Path for every HTTP method
// (other methods than POST, GET and DELETE get 405).
func (h *Handler) Register(r fiber.Router) {
	r.All(h.opts.Path, h.Serve)
	h.registerAuth(r)
}

// Serve is the Fiber handler. It always returns nil: every outcome,
// errors included, is written to the response.
func (h *Handler) Serve(c *fiber.Ctx) error {
	h.ServeFastHTTP(c.Context())
	return nil
}

// ServeFastHTTP serves one request on fasthttp directly.
//
// For a POST, GET or DELETE naming an unknown or ended session it writes
// 404 with a prebuilt body and does not allocate (TestNotFoundAllocs;
// BenchmarkNotFound). Request memory is only borrowed.
//
// A request with ambiguous framing (see badFraming) gets 400 and the
// connection is closed after the response; one with more than one Origin
// header, or an Origin not allowed, gets 403.
func (h *Handler) ServeFastHTTP(ctx *fasthttp.RequestCtx) {
	if h.draining.Load() {
		// Shutting down: no request after this one on the connection, so
		// that none races with the server closing it once idle (the
		// client's next request opens a connection, which a load balancer
		// sends to another node).
		ctx.SetConnectionClose()
	}
	hdr := readHeaders(&ctx.Request.Header)
	if k := badFraming(&ctx.Request.Header, &hdr); k != refuseNone {
		h.refuse(ctx, k)
		return
	}
	if !h.origins.allowReq(&hdr) {
		h.refuse(ctx, refuseForbiddenOrigin)
		return
	}
	if h.auth != nil && !h.authenticate(ctx, &hdr) {
		return
	}
	m := ctx.Method()
	switch {
	case bytes.Equal(m, methodPOST):
		h.post(ctx, &hdr)
	case bytes.Equal(m, methodGET):
		h.get(ctx, &hdr)
	case bytes.Equal(m, methodDELETE):
		h.delete(ctx, &hdr)
	default:
		h.refuse(ctx, refuseMethodNotAllowed)
	}
}

var (
	methodPOST   = []byte(fasthttp.MethodPost)
	methodGET    = []byte(fasthttp.MethodGet)
	methodDELETE = []byte(fasthttp.MethodDelete)
)

// The MCP request headers.
const (
	headerSessionID   = "Mcp-Session-Id"
	headerVersion     = "Mcp-Protocol-Version"
	headerLastEventID = "Last-Event-ID"
)

// An era says which family of revisions a request belongs to.
type era uint8

const (
	eraLegacy  era = iota // 2025-03-26, 2025-06-18, 2025-11-25: sessions
	eraModern             // 2026-07-28 and later: stateless
	eraInvalid            // an MCP-Protocol-Version no revision has
)

// versionEra classifies a request by its MCP-Protocol-Version header
// (2025-11-25 basic/transports §Protocol Version Header; 2026-07-28
// basic/versioning). No header means legacy (2025-03-26 is assumed, or the
// session's version). It does not allocate.
func versionEra(v []byte) era {
	if len(v) == 0 || mcp.IsLegacyVersion(b2s(v)) {
		return eraLegacy
	}
	if mcp.IsModernVersion(b2s(v)) {
		return eraModern
	}
	return eraInvalid
}

// lookup returns the live session named by the Mcp-Session-Id header, and
// whether the header was present ([sessions.Map.Resolve]); err wraps
// sessions.ErrStoreUnavailable when a session store could not tell. It
// does not allocate for an unknown ID or a session held here.
func (h *Handler) lookup(hdr *reqHeaders) (s *sessions.Session, present bool, err error) {
	id := hdr.sessionID
	if len(id) == 0 {
		return nil, false, nil
	}
	s, err = h.sessions.Resolve(b2s(id))
	if s != nil && h.auth != nil && !ownedBy(s, hdr.principal) {
		return nil, true, nil // another principal's session: as if unknown (auth.go)
	}
	return s, true, err
}

// storeRefusal is the refusal for an error of sessions.Map.Resolve: the
// map is closed (draining: the session lives on in the store, for other
// nodes) or the store cannot be reached.
func storeRefusal(err error) refusalKind {
	if errors.Is(err, sessions.ErrClosed) {
		return refuseDraining
	}
	return refuseStoreDown
}

// endedRefusal is the refusal for a request whose session s ended while
// it was served: 404, but 503 (draining) when the session lives on in a
// session store and only this node let it go (shutdown, eviction), so
// that the client retries elsewhere rather than start over.
func (h *Handler) endedRefusal(s *sessions.Session) refusalKind {
	if s != nil && h.sessions.Options().Store != nil {
		switch s.Reason() {
		case sessions.EndShutdown, sessions.EndEvicted:
			return refuseDraining
		}
	}
	return refuseSessionNotFound
}

// sessionFor resolves the session of a GET or DELETE, writing the refusal
// (400 without the header, 404 for an unknown session, 503 when the
// session store cannot tell) and returning nil when there is none. It
// does not allocate for an unknown ID.
func (h *Handler) sessionFor(ctx *fasthttp.RequestCtx, hdr *reqHeaders) *sessions.Session {
	s, present, err := h.lookup(hdr)
	switch {
	case !present:
		h.refuse(ctx, refuseSessionRequired)
	case err != nil:
		h.refuse(ctx, storeRefusal(err))
	case s == nil:
		h.refuse(ctx, refuseSessionNotFound)
	}
	return s
}

// delete ends a session (2025-11-25 basic/transports §Session Management:
// "the client SHOULD send an HTTP DELETE … to explicitly terminate the
// session"): 204, and 404 for the ID from then on.
func (h *Handler) delete(ctx *fasthttp.RequestCtx, hdr *reqHeaders) {
	switch versionEra(hdr.version) {
	case eraModern:
		h.refuse(ctx, refuseModernGET)
		return
	case eraInvalid:
		h.refuse(ctx, refuseBadVersion)
		return
	}
	s := h.sessionFor(ctx, hdr)
	if s == nil {
		return
	}
	s.End(sessions.EndDelete)
	ctx.Response.SetStatusCode(fasthttp.StatusNoContent)
}

// get opens the session's GET stream, or resumes a stream with
// Last-Event-ID (2025-11-25 basic/transports §Listening for Messages from
// the Server, §Resumability and Redelivery). Either is written on the
// request's connection, which fasthttp hands over (see startGETStream):
// ctx must be served by a fasthttp.Server, as every request is.
func (h *Handler) get(ctx *fasthttp.RequestCtx, hdr *reqHeaders) {
	if _, sse := parseAccept(hdr.accept); !sse {
		h.refuse(ctx, refuseNotAcceptableSSE)
		return
	}
	switch versionEra(hdr.version) {
	case eraModern:
		h.refuse(ctx, refuseModernGET)
		return
	case eraInvalid:
		h.refuse(ctx, refuseBadVersion)
		return
	}
	s := h.sessionFor(ctx, hdr)
	if s == nil {
		return
	}
	if h.draining.Load() {
		h.refuse(ctx, refuseDraining)
		return
	}
	if last := hdr.lastEventID; len(last) > 0 {
		streamID, seq, cur, ok := sessions.ParseEventIDCursor(last)
		switch {
		case ok && s.OtherNodesGET(streamID): // this node takes the stream over (getclaims.go)
			h.takeOverGET(ctx, s, streamID, seq, cur)
			return
		case ok && h.claims != nil && s.OwnGET(streamID): // this node's GET stream, claimed anew
			h.resumeGET(ctx, s, seq)
			return
		}
		var st *sessions.Stream
		if ok {
			st = s.ResumeStream(streamID, seq) // held here, or another node's (sessions.EventStore)
		}
		if st == nil || seq > st.Last() {
			h.refuse(ctx, refuseBadEventID)
			return
		}
		// Events after seq that the event log budgets dropped are gone:
		// the replay starts at the oldest event kept (the writer logs the
		// gap). 2025-11-25 basic/transports §Resumability and Redelivery
		// lets a server replay what it can.
		h.startGETStream(ctx, s, func(notify func()) (*sessions.Reader, bool) {
			return st.AttachNotify(seq, notify), true
		})
		return
	}
	st := s.Standalone()
	if st == nil {
		h.refuse(ctx, h.endedRefusal(s))
		return
	}
	if !h.claimGET(s) { // open on another node
		h.refuse(ctx, refuseConflict)
		return
	}
	h.hold(s, st, sessions.Cursor{}) // the broadcasts from now on
	started := h.startGETStream(ctx, s, st.TryAttachNotify)
	if !started && s.Reason() == 0 && h.reapDeadGET(s) {
		started = h.startGETStream(ctx, s, st.TryAttachNotify) // in place of a stream whose client hung up
	}
	if !started {
		if s.Reason() != 0 {
			h.refuse(ctx, h.endedRefusal(s))
			return
		}
		h.refuse(ctx, refuseConflict)
	}
}
