package transport

import (
	"bytes"
	"errors"
	"time"
	"unsafe"

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
		h.serveModern(ctx, body)
		return
	case eraInvalid:
		h.refuse(ctx, refuseBadVersion)
		return
	}
	hasMeta, hasInit := scanTokens(body)
	if hasMeta && hasMetaVersion(body) {
		h.serveModern(ctx, body)
		return
	}

	// The fast path: a well-formed request for a dead session is answered
	// before its body is decoded. Only an initialize may carry a stale ID
	// (it is ignored: the client is starting over).
	s, present, serr := h.lookup(hdr)
	if present && s == nil && !hasInit {
		if serr != nil {
			h.refuse(ctx, storeRefusal(serr))
			return
		}
		h.refuse(ctx, refuseSessionNotFound)
		return
	}

	// The exchange of a live session's POST that may carry a request
	// (it has an "id") is made now, and its message decoded into it
	// (jsonrpc.DecodeIn): one allocation for both. A POST of responses
	// leaves it unused.
	var ex *exchange
	var in *jsonrpc.Single
	if s != nil && !hasInit && containsAt(body, idToken, idAnchor) {
		ex = new(exchange)
		in = &ex.msg
	}
	msgs, batch, derr := jsonrpc.DecodeIn(body, in)
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
	case s == nil && serr != nil:
		h.refuse(ctx, storeRefusal(serr))
		return
	case s == nil:
		h.refuse(ctx, refuseSessionNotFound)
		return
	case batch && s.ProtocolVersion() != mcp.Version20250326:
		h.refuse(ctx, refuseBatchVersion)
		return
	case h.auth != nil && !h.authorizeCalls(ctx, hdr.principal, msgs):
		return
	}
	conn := s.Conn()
	// Admission (limits.go): the requests that will run on workers take
	// their slots, all or none, before anything of the POST is acted on.
	var sl *sessionSlots
	n, inl := h.workRequests(msgs)
	if n > 0 {
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
	if ex == nil { // a request without "id" in its body cannot be, but be sure
		ex = new(exchange)
	}
	h.answer(ctx, ex, s, sl, conn, requests, inl, batch, acceptJSON, acceptSSE)
}

// inline reports whether the session's request m runs on the HTTP
// request's goroutine: its method says so (mcp.Backend.Inline), or its
// params do (mcp.InlineCaller: a tools/call of an inline tool). It does
// not allocate.
func (h *Handler) inline(m *jsonrpc.Message) bool {
	return h.backend.Inline(m.Method) || h.inliner != nil && h.inliner.InlineCall(m.Method, m.Params)
}

// workRequests counts the requests of msgs that run on a worker (those
// the backend does not answer inline): what the in-flight caps count.
// Bit k of inl is set when the k-th request of msgs (requests only, in
// order; the first 64) is inline, so that answer need not ask again.
func (h *Handler) workRequests(msgs []*jsonrpc.Message) (n int, inl uint64) {
	k := 0
	for _, m := range msgs {
		if m.Kind != jsonrpc.KindRequest {
			continue
		}
		if h.inline(m) {
			if k < 64 {
				inl |= 1 << k
			}
		} else {
			n++
		}
		k++
	}
	return n, inl
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
	idAnchor   = bytes.IndexByte(idToken, 'i')
)

// idToken is how the id member looks in a body; a body without it holds
// no request.
var idToken = []byte(`"id"`)

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
	if jerr != nil { // no session: JSON, whatever the client accepts
		writeJSON(ctx, jsonrpc.AppendError(nil, m.ID, jerr))
		return
	}
	st := conn.State()
	st.SetPrincipal(principalOf(ctx)) // before the session is published (auth.go)
	s, err := h.sessions.Create(st.ProtocolVersion, conn)
	if err != nil {
		conn.Close()
		k := refuseUnavailable // too many sessions
		switch {
		case errors.Is(err, sessions.ErrClosed):
			k = refuseDraining
		case errors.Is(err, sessions.ErrStoreUnavailable):
			k = refuseStoreDown
		}
		h.refuseError(ctx, k, m.ID, nil)
		return
	}
	st.SetOutbound(standaloneOutbound{h, s})
	h.wireRelay(s, st)
	h.opts.Observer.SessionStarted()
	st.OnClose(func() { s.End(sessions.EndClosed) }) // the backend ended it (see mcp.Conn)
	if ss, ok := conn.(mcp.SessionStarter); ok {
		ss.SessionStarted(s.ID())
	}
	ctx.Response.Header.Set(headerSessionID, s.ID())
	if acceptJSON { // nothing is sent before it: no exchange to decide
		writeJSONResult(ctx, m.ID, result)
		return
	}
	// A client that accepts only SSE: an exchange in SSE mode carries it.
	ex := h.newExchange(s, 1, false, false, true)
	ex.complete(m.ID, result, nil)
	h.reply(ctx, ex)
}

// answerInline runs the one request of a POST on this goroutine, c being
// its Call in ex, and answers it. A success response with nothing sent
// first is the common call: it is encoded straight into the HTTP
// response's pooled body, the result too when the backend encodes it
// into c.Buf (mcp.Call.Buf), with no buffered copy and no allocation of
// its own.
func (h *Handler) answerInline(ctx *fasthttp.RequestCtx, conn mcp.Conn, ex *exchange, c *mcp.Call) {
	head := jsonrpc.AppendResultHead(ctx.Response.SwapBody(nil)[:0], c.ID)
	c.Buf = head
	result, jerr := h.handle(conn, c)
	c.Buf = nil // the body's buffer goes back to fasthttp's pool with the response
	if jerr == nil && ex.decideJSON() {
		b := head
		switch {
		case len(result) == 0:
			b = append(b, "{}"...)
		case follows(head, result):
			b = b[:len(b)+len(result)]
		default:
			b = append(b, result...)
		}
		ctx.Response.SetStatusCode(fasthttp.StatusOK)
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
		ctx.Response.SwapBody(append(b, '}'))
		return
	}
	ex.complete(c.ID, result, jerr) // copies result: head's array is free again
	ctx.Response.SwapBody(head[:0])
	h.reply(ctx, ex)
}

// follows reports whether b is the bytes right after head in head's
// array.
func follows(head, b []byte) bool {
	return len(b) > 0 && cap(head)-len(head) >= len(b) && unsafe.SliceData(head[len(head):cap(head)]) == unsafe.SliceData(b)
}

// answer runs the requests of one POST of session s in ex (made by post,
// zero but for the message) and answers them (see [exchange]):
// application/json when no request sent anything before its response
// (or JSON is all the client takes, or JSONResponse is set),
// else text/event-stream from the first message sent on (2025-11-25
// basic/transports §Sending Messages to the Server, item 5). The requests
// that run on workers have taken their slots of sl and of the server's
// count (admit); each gives them back when it ends, at the latest at its
// deadline (limits.go). The others, marked in inl (see workRequests), run
// on this goroutine; a POST of one such request, not in a batch, that
// sends nothing first has its response encoded straight into the HTTP
// response's body (answerInline).
func (h *Handler) answer(ctx *fasthttp.RequestCtx, ex *exchange, s *sessions.Session, sl *sessionSlots, conn mcp.Conn, requests []*jsonrpc.Message, inl uint64, batch, acceptJSON, acceptSSE bool) {
	st := conn.State()
	h.newExchangeIn(ex, s, len(requests), batch, acceptSSE && !h.opts.JSONResponse, !acceptJSON)
	for k, m := range requests {
		// The Call is built in place: it holds what a tools/call needs
		// while it runs (mcp.Call), and is not copied.
		var c *mcp.Call
		var f *flight
		switch inline := k < 64 && inl&(1<<k) != 0 || k >= 64 && h.inline(m); {
		case inline && ex.call.Method == "":
			c = &ex.call // escapes to the backend, with the exchange
		case inline:
			c = new(mcp.Call) // a second inline request of a batch
		default:
			f = &flight{h: h, s: s, slots: sl, ex: ex, conn: conn}
			c = &f.call // the flight and its call: one allocation
			f.c = c
		}
		c.Session, c.Method, c.ID, c.Params, c.Out, c.Principal = st, m.Method, m.ID, m.Params, ex, principalOf(ctx)
		switch {
		case f != nil:
			h.startCall(f)
		case len(requests) == 1 && !batch: // a batch is answered with an array (reply)
			h.answerInline(ctx, conn, ex, c)
			return
		default:
			result, jerr := h.handle(conn, c)
			ex.complete(m.ID, result, jerr)
		}
	}
	h.reply(ctx, ex)
}
