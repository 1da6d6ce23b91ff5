package transport

import (
	"bytes"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// b2s returns b as a string without copying. The string aliases b: it must
// not outlive b's contents (fasthttp request memory lives until the
// handler returns).
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// reqHeaders are the request headers the transport reads, borrowed from
// the request: valid until the handler returns.
type reqHeaders struct {
	origin, accept, version, sessionID, lastEventID []byte
	// authorization is the Authorization header (Options.Auth), and
	// principal the verified token's principal once authenticate ran.
	authorization []byte
	principal     *mcp.Principal
	// origins counts the Origin headers: more than one is refused, not
	// resolved (which one a browser meant cannot be known).
	origins int
	// fields counts the headers but a Content-Length: 0 (which fasthttp
	// sets when a request has no body, see badFraming); te is whether
	// Transfer-Encoding: chunked is one of them.
	fields int
	te     bool
}

// readHeaders collects the request headers the transport reads in one pass
// over the headers, instead of one RequestHeader.Peek each (Peek
// normalizes its key on every call: a third of the 404 path's time). Names
// are compared ignoring case, so it works whether or not the server
// normalizes header names. It counts the Origin headers (r.origin is the
// last) and all of them. It does not allocate (TestNotFoundAllocs).
func readHeaders(h *fasthttp.RequestHeader) (r reqHeaders) {
	for k, v := range h.All() {
		r.fields++
		switch len(k) {
		case len("Origin"): // and "Accept"
			if headerIs(k, hdrOrigin) {
				r.origin = v
				r.origins++
			} else if headerIs(k, hdrAccept) {
				r.accept = v
			}
		case len(headerSessionID): // and "Content-Length"
			if headerIs(k, hdrSessionID) {
				r.sessionID = v
			} else if len(v) == 1 && v[0] == '0' && headerIs(k, hdrContentLength) {
				r.fields--
			}
		case len(headerVersion):
			if headerIs(k, hdrVersion) {
				r.version = v
			}
		case len(headerLastEventID): // and "Authorization"
			if headerIs(k, hdrLastEventID) {
				r.lastEventID = v
			} else if headerIs(k, hdrAuthorization) {
				r.authorization = v
			}
		case len(fasthttp.HeaderTransferEncoding):
			r.te = r.te || headerIs(k, hdrTransferEncoding)
		}
	}
	return r
}

// headerIs reports whether the header name k is name, ignoring case. name
// is in fasthttp's normalized form, which is how k arrives unless the
// server disables normalizing: that case costs one memequal, and a
// different first letter rejects at once.
func headerIs(k, name []byte) bool {
	if len(k) != len(name) || k[0]|0x20 != name[0]|0x20 {
		return false
	}
	return bytes.Equal(k, name) || bytes.EqualFold(k, name)
}

var (
	hdrOrigin      = []byte(fasthttp.HeaderOrigin)
	hdrAccept      = []byte(fasthttp.HeaderAccept)
	hdrSessionID   = []byte(headerSessionID)
	hdrVersion     = []byte(headerVersion)
	hdrLastEventID = []byte(headerLastEventID)

	hdrTransferEncoding = []byte(fasthttp.HeaderTransferEncoding)
	hdrContentLength    = []byte(fasthttp.HeaderContentLength)
)

// parseAccept reports which of the two MCP response types an Accept header
// admits (RFC 9110 §12.5.1): application/json and text/event-stream, by
// exact type, type/* or */*, ignoring ranges with q=0. An empty header
// admits both. The headers the SDKs send are matched whole first. It
// neither retains h nor allocates.
func parseAccept(h []byte) (json, sse bool) {
	switch string(h) { // compiled to a comparison, no conversion
	case "application/json, text/event-stream", "text/event-stream, application/json":
		return true, true
	case "text/event-stream":
		return false, true
	case "application/json":
		return true, false
	}
	return parseAcceptRanges(h)
}

// parseAcceptRanges is parseAccept without the whole-header matches.
func parseAcceptRanges(h []byte) (json, sse bool) {
	if len(bytes.TrimSpace(h)) == 0 {
		return true, true
	}
	for len(h) > 0 {
		var r []byte
		if i := bytes.IndexByte(h, ','); i >= 0 {
			r, h = h[:i], h[i+1:]
		} else {
			r, h = h, nil
		}
		mt, params := r, []byte(nil)
		if i := bytes.IndexByte(r, ';'); i >= 0 {
			mt, params = r[:i], r[i+1:]
		}
		mt = bytes.TrimSpace(mt)
		if len(mt) == 0 || qIsZero(params) {
			continue
		}
		switch len(mt) {
		case len("*/*"):
			json = json || string(mt) == "*/*"
			sse = sse || string(mt) == "*/*"
		case len("text/*"):
			sse = sse || bytes.EqualFold(mt, []byte("text/*"))
		case len("application/*"):
			json = json || bytes.EqualFold(mt, []byte("application/*"))
		case len("application/json"):
			json = json || bytes.EqualFold(mt, []byte("application/json"))
		case len("text/event-stream"):
			sse = sse || bytes.EqualFold(mt, []byte("text/event-stream"))
		}
	}
	return json, sse
}

// qIsZero reports whether media-range parameters carry q=0 (or 0.0, 0.00,
// 0.000): "not acceptable".
func qIsZero(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		p = bytes.TrimSpace(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		v := p[2:]
		if len(v) == 0 || v[0] != '0' {
			return false
		}
		for _, c := range v[1:] {
			if c != '.' && c != '0' {
				return false
			}
		}
		return true
	}
	return false
}

// isJSONContentType reports whether a Content-Type is application/json,
// with or without parameters such as charset. It does not allocate.
func isJSONContentType(ct []byte) bool {
	if string(ct) == "application/json" { // what the SDKs send
		return true
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return bytes.EqualFold(bytes.TrimSpace(ct), []byte("application/json"))
}

// originMatcher checks Origin headers against an allow-list (see
// Options.AllowedOrigins).
type originMatcher struct {
	any    bool
	exact  []string
	prefix []string // "scheme://host", from "scheme://host:*"
}

func newOriginMatcher(allowed []string) originMatcher {
	var m originMatcher
	for _, a := range allowed {
		a = strings.TrimRight(strings.TrimSpace(a), "/")
		switch {
		case a == "*":
			m.any = true
		case strings.HasSuffix(a, ":*"):
			m.prefix = append(m.prefix, strings.TrimSuffix(a, ":*"))
		case a != "":
			m.exact = append(m.exact, a)
		}
	}
	return m
}

// allowReq reports whether a request's Origin headers are allowed: at
// most one, and allowed. It does not allocate.
func (m *originMatcher) allowReq(r *reqHeaders) bool {
	return r.origins <= 1 && m.allow(r.origin)
}

// allow reports whether an Origin header value is allowed; an empty one
// (no Origin) always is. It neither retains origin nor allocates.
func (m *originMatcher) allow(origin []byte) bool {
	if len(origin) == 0 || m.any {
		return true
	}
	o := b2s(origin)
	for _, e := range m.exact {
		if o == e {
			return true
		}
	}
	for _, p := range m.prefix {
		if !strings.HasPrefix(o, p) {
			continue
		}
		rest := o[len(p):]
		if rest == "" {
			return true
		}
		if rest[0] != ':' || len(rest) == 1 || len(rest) > 6 {
			continue
		}
		ok := true
		for i := 1; i < len(rest); i++ {
			if rest[i] < '0' || rest[i] > '9' {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
