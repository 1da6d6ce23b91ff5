package transport

import (
	"bytes"
	"errors"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

var (
	// initializeToken is how an initialize request looks in a body; a body
	// without it cannot be one, so the 404 fast path need not decode it.
	initializeToken = []byte(`"initialize"`)
	// metaVersionToken is how a 2026-07-28 _meta protocol version looks in a
	// body; a body without it is not modern by its _meta.
	metaVersionToken = []byte(`"io.modelcontextprotocol/protocolVersion"`)
)

// post serves a POST (2025-11-25 basic/transports §Sending Messages to the
// Server). In order: Content-Type (415), Accept (406), size (413), era
// (by MCP-Protocol-Version, then by _meta), the session (404 at once for an
// unknown one, before the body is decoded), then decoding (400), then the
// in-flight caps (503; limits.go).
func (h *Handler) post(ctx *fasthttp.RequestCtx, hdr *reqHeaders) {
	if !isJSONContentType(ctx.Request.Header.ContentType()) {
		h.refuse(ctx, refuseUnsupportedMedia)
		return
	}
	acceptJSON, acceptSSE := parseAccept(hdr.accept)
	if !acceptJSON && !acceptSSE {
		h.refuse(ctx, refuseNotAcceptable)
		return
	}
	body := ctx.PostBody()
	if len(body) > h.opts.MaxBodyBytes {
		h.refuse(ctx, refuseTooLarge)
		return
	}
	switch versionEra(hdr.version) {
	case eraModern:
		h.postModern(ctx, body)
		return
	case eraInvalid:
		h.refuse(ctx, refuseBadVersion)
		return
	}
	hasMeta, hasInit := scanTokens(body)
	if hasMeta && hasMetaVersion(body) {
		h.postModern(ctx, body)
		return
	}

	// The fast path: a well-formed request for a dead session is answered
	// before its body is decoded. Only an initialize may carry a stale ID
	// (it is ignored: the client is starting over).
	s, present := h.lookup(hdr)
	if present && s == nil && !hasInit {
		h.refuse(ctx, refuseSessionNotFound)
		return
	}

	msgs, batch, derr := jsonrpc.Decode(body)
	if derr != nil {
		h.refuseError(ctx, refuseInvalidMessage, nil, derr)
		return
	}
	for _, m := range msgs {
		if m.Kind == jsonrpc.KindRequest && m.Method == mcp.MethodInitialize {
			if batch {
				h.refuse(ctx, refuseBatchInit)
				return
			}
			h.initialize(ctx, m, acceptJSON)
			return
		}
	}
	switch {
	case !present:
		h.refuse(ctx, refuseSessionRequired)
		return
	case s == nil:
		h.refuse(ctx, refuseSessionNotFound)
		return
	case batch && s.ProtocolVersion() != mcp.Version20250326:
		h.refuse(ctx, refuseBatchVersion)
		return
	}
	conn := s.Conn()
	// Admission (limits.go): the requests that will run on workers take
	// their slots, all or none, before anything of the POST is acted on.
	var sl *sessionSlots
	if n := h.workRequests(msgs); n > 0 {
		sl = h.slotsOf(s)
		if jerr := h.admit(sl, n); jerr != nil {
			var id []byte
			if !batch {
				id = msgs[0].ID
			}
			h.refuseError(ctx, refuseUnavailable, id, jerr)
			return
		}
	}
	s.Hold()
	defer s.Release()

	var requests []*jsonrpc.Message
	for _, m := range msgs {
		switch m.Kind {
		case jsonrpc.KindRequest:
			requests = append(requests, m)
		case jsonrpc.KindNotification:
			conn.Notify(m.Method, m.Params)
		case jsonrpc.KindResponse:
			conn.Deliver(m)
		}
	}
	if len(requests) == 0 {
		// Only notifications and responses: 202, no body (2025-11-25
		// basic/transports §Sending Messages to the Server, item 4).
		ctx.Response.SetStatusCode(fasthttp.StatusAccepted)
		return
	}
	h.answer(ctx, s, sl, conn, requests, batch, acceptJSON, acceptSSE)
}

// workRequests counts the requests of msgs that run on a worker (those
// the backend does not answer inline): what the in-flight caps count.
func (h *Handler) workRequests(msgs []*jsonrpc.Message) int {
	n := 0
	for _, m := range msgs {
		if m.Kind == jsonrpc.KindRequest && !h.backend.Inline(m.Method) {
			n++
		}
	}
	return n
}

// scanTokens reports whether body contains metaVersionToken and
// initializeToken. Each is looked for by a byte that is rare in JSON-RPC
// bodies ('V' and 'z'): one vectorized IndexByte pass per token, and a
// comparison only where that byte is. It neither retains body nor
// allocates.
func scanTokens(body []byte) (meta, init bool) {
	return containsAt(body, metaVersionToken, metaAnchor), containsAt(body, initializeToken, initAnchor)
}

// Where the rare byte is in each token.
var (
	metaAnchor = bytes.IndexByte(metaVersionToken, 'V')
	initAnchor = bytes.IndexByte(initializeToken, 'z')
)

// containsAt reports whether tok occurs in b, finding candidates by
// tok[at].
func containsAt(b, tok []byte, at int) bool {
	c := tok[at]
	for off := at; off < len(b); {
		i := bytes.IndexByte(b[off:], c)
		if i < 0 {
			return false
		}
		p := off + i - at // where tok would start
		if p+len(tok) > len(b) {
			return false
		}
		if bytes.Equal(b[p:p+len(tok)], tok) {
			return true
		}
		off += i + 1
	}
	return false
}

// hasMetaVersion reports whether body is a message whose params._meta
// carries a protocol version: a 2026-07-28 request, even without the
// header. Only called when the cheap byte test matched.
func hasMetaVersion(body []byte) bool {
	var m struct {
		Params struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	if jsonrpc.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m.Params.Meta["io.modelcontextprotocol/protocolVersion"]
	return ok
}

// postModern answers a 2026-07-28 (stateless) request; see serveModern.
func (h *Handler) postModern(ctx *fasthttp.RequestCtx, body []byte) {
	h.serveModern(ctx, body)
}

// initialize starts a session (2025-11-25 basic/lifecycle §Initialization;
// basic/transports §Session Management): the result carries the new
// Mcp-Session-Id. Past the session cap, or while draining, it is 503 with
// Retry-After, and existing sessions are untouched.
func (h *Handler) initialize(ctx *fasthttp.RequestCtx, m *jsonrpc.Message, acceptJSON bool) {
	if h.draining.Load() {
		h.refuseError(ctx, refuseDraining, m.ID, nil)
		return
	}
	start := time.Now()
	result, conn, jerr := h.backend.Initialize(m.Params)
	h.opts.Observer.Request(mcp.MethodInitialize, time.Since(start), jerr != nil)
	if errors.Is(jerr, mcp.ErrUnavailable) { // the backend is at its own cap (bridge children)
		h.refuseError(ctx, refuseUnavailable, m.ID, jerr)
		return
	}
	if jerr != nil {
		h.writeResponses(ctx, [][]byte{jsonrpc.AppendError(nil, m.ID, jerr)}, false, acceptJSON, nil)
		return
	}
	st := conn.State()
	s, err := h.sessions.Create(st.ProtocolVersion, conn)
	if err != nil {
		conn.Close()
		k := refuseUnavailable // too many sessions
		if errors.Is(err, sessions.ErrClosed) {
			k = refuseDraining
		}
		h.refuseError(ctx, k, m.ID, nil)
		return
	}
	st.SetOutbound(standaloneOutbound{s})
	h.opts.Observer.SessionStarted()
	st.OnClose(func() { s.End(sessions.EndClosed) }) // the backend ended it (see mcp.Conn)
	if ss, ok := conn.(mcp.SessionStarter); ok {
		ss.SessionStarted(s.ID())
	}
	ctx.Response.Header.Set(headerSessionID, s.ID())
	h.writeResponses(ctx, [][]byte{jsonrpc.AppendResult(nil, m.ID, result)}, false, acceptJSON, s)
}

// writeResponses answers with complete responses: application/json when
// the client accepts it (an array for a batch), else one SSE stream that
// carries them (s must then be live).
func (h *Handler) writeResponses(ctx *fasthttp.RequestCtx, resps [][]byte, batch, acceptJSON bool, s *sessions.Session) {
	if acceptJSON || s == nil {
		ctx.Response.SetStatusCode(fasthttp.StatusOK)
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
		ctx.Response.SetBody(joinResponses(resps, batch))
		return
	}
	st := s.NewStream()
	if st == nil {
		h.refuse(ctx, refuseSessionNotFound)
		return
	}
	for _, r := range resps {
		st.Append(r)
	}
	st.Finish()
	h.startSSE(ctx, s, st.Attach(0))
}

func joinResponses(resps [][]byte, batch bool) []byte {
	if !batch {
		return resps[0]
	}
	n := 2
	for _, r := range resps {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, r := range resps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

// answer runs the requests of one POST and answers them: application/json
// when no request sent anything before its response (or JSON is all the
// client takes, or JSONResponse is set), else text/event-stream from the
// first message sent on (2025-11-25 basic/transports §Sending Messages to
// the Server, item 5). The requests that run on workers have taken their
// slots of sl and of the server's count (admit); each gives them back when
// it ends, at the latest at its deadline (limits.go).
func (h *Handler) answer(ctx *fasthttp.RequestCtx, s *sessions.Session, sl *sessionSlots, conn mcp.Conn, requests []*jsonrpc.Message, batch, acceptJSON, acceptSSE bool) {
	st := conn.State()
	ex := &exchange{
		h:        h,
		s:        s,
		batch:    batch,
		allowSSE: acceptSSE && !h.opts.JSONResponse,
		pending:  len(requests),
		decided:  make(chan struct{}),
	}
	if !acceptJSON {
		ex.mu.Lock()
		ex.switchToSSELocked()
		ex.mu.Unlock()
	}
	for _, m := range requests {
		c := &mcp.Call{Session: st, Method: m.Method, ID: m.ID, Params: m.Params, Out: ex}
		if h.backend.Inline(m.Method) {
			result, jerr := h.handle(conn, c)
			ex.complete(c, result, jerr)
			continue
		}
		h.startCall(s, sl, conn, c, ex)
	}
	select {
	case <-ex.decided:
	case <-s.Done():
		h.refuse(ctx, refuseSessionNotFound)
		return
	}
	if ex.mode == modeJSON && len(ex.buffered) == 0 || ex.mode == modeSSE && ex.stream == nil {
		// Every request was cancelled before anything was sent: there is
		// no response to give (2025-11-25 basic/utilities/cancellation).
		ctx.Response.SetStatusCode(fasthttp.StatusAccepted)
		return
	}
	if ex.mode == modeJSON {
		ctx.Response.SetStatusCode(fasthttp.StatusOK)
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
		ctx.Response.SetBody(joinResponses(ex.buffered, batch))
		return
	}
	h.startSSE(ctx, s, ex.reader)
}

// Exchange modes.
const (
	modeUndecided uint8 = iota
	modeJSON
	modeSSE
)

// An exchange is one POST carrying requests: it collects their responses
// and what they send first, and decides once how the POST is answered.
// It implements [mcp.Outbound] for the requests' calls.
type exchange struct {
	h        *Handler
	s        *sessions.Session
	batch    bool
	allowSSE bool

	mu       sync.Mutex // guards the fields below
	mode     uint8
	pending  int      // requests not yet answered
	buffered [][]byte // responses held while undecided
	stream   *sessions.Stream
	reader   *sessions.Reader
	decided  chan struct{} // closed once mode is JSON or SSE
}

// Send carries a message a request sends before its response: on the
// POST's SSE stream, or, when that cannot be (JSON-only), on the session's
// GET stream. It never blocks.
func (ex *exchange) Send(msg []byte) error {
	ex.mu.Lock()
	if ex.mode == modeUndecided && ex.allowSSE {
		ex.switchToSSELocked()
	}
	st := ex.stream
	ex.mu.Unlock()
	if st == nil {
		return standaloneOutbound{ex.s}.Send(msg)
	}
	if _, ok := st.Append(msg); !ok {
		return errSessionEnded
	}
	return nil
}

// CloseStream closes the connection of the POST's SSE stream, switching
// the exchange to SSE first if nothing was sent yet, and keeps the stream
// for a resumption (see [mcp.Request.CloseSSEStream]). It reports false
// when the POST is answered with JSON.
func (ex *exchange) CloseStream() bool {
	ex.mu.Lock()
	if ex.mode == modeUndecided && ex.allowSSE {
		ex.switchToSSELocked()
	}
	st := ex.stream
	ex.mu.Unlock()
	if st == nil {
		return false
	}
	st.Kick()
	return true
}

var errSessionEnded = errors.New("transport: the session or stream has ended")

// standaloneOutbound sends on a session's GET stream.
type standaloneOutbound struct{ s *sessions.Session }

func (o standaloneOutbound) Send(msg []byte) error {
	st := o.s.Standalone()
	if st == nil {
		return errSessionEnded
	}
	if _, ok := st.Append(msg); !ok {
		return errSessionEnded
	}
	return nil
}

// switchToSSELocked turns the exchange into an SSE stream and moves the
// responses buffered so far onto it.
func (ex *exchange) switchToSSELocked() {
	ex.mode = modeSSE
	ex.stream = ex.s.NewStream()
	if ex.stream != nil {
		ex.reader = ex.stream.Attach(0)
		for _, r := range ex.buffered {
			ex.stream.Append(r)
		}
		if ex.pending == 0 {
			ex.stream.Finish()
		}
	}
	ex.buffered = nil
	close(ex.decided)
}

// complete records the answer to call c: its result, or its error, or
// nothing when the client cancelled it.
func (ex *exchange) complete(c *mcp.Call, result []byte, jerr *jsonrpc.Error) {
	var resp []byte
	switch {
	case jerr == nil:
		resp = jsonrpc.AppendResult(nil, c.ID, result)
	case errors.Is(jerr, mcp.ErrNoResponse):
		// no response for a cancelled request
	default:
		resp = jsonrpc.AppendError(nil, c.ID, jerr)
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.pending--
	switch ex.mode {
	case modeUndecided:
		if resp != nil {
			ex.buffered = append(ex.buffered, resp)
		}
		if ex.pending == 0 {
			ex.mode = modeJSON
			close(ex.decided)
		}
	case modeSSE:
		if ex.stream == nil {
			return
		}
		if resp != nil {
			ex.stream.Append(resp)
		}
		if ex.pending == 0 {
			ex.stream.Finish()
		}
	}
}
