package transport

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// Request framing. fasthttp v1.73 parses a request whose body length is
// ambiguous and serves it on a connection it keeps open:
//
//   - Transfer-Encoding: chunked together with Content-Length is read by
//     its chunks (Content-Length is dropped), and the bytes after the last
//     chunk are read as the next request;
//   - a header line starting with SP or HTAB (obs-fold) is joined to the
//     line before it;
//   - Transfer-Encoding is honoured on HTTP/1.0;
//   - Transfer-Encoding: identity is dropped, and the body framed by
//     Content-Length.
//
// A proxy in front that frames such a request otherwise hides a second
// request in the first one's body (request smuggling). RFC 9112 §6.3 says
// to answer such requests with 400 and close the connection; §5.2 allows
// 400 for obs-fold. badFraming finds them in the raw header block that
// fasthttp keeps of every request (RequestHeader.RawHeaders: it copies the
// block while parsing, before it joins folded lines), and their entries
// of the refusal table (refuseTEWithCL…) answer 400 with Connection:
// close, so that fasthttp writes that one response and closes the
// connection: what the client sent after it is never read as a request.

// badFraming returns the refusal for a request whose framing is
// ambiguous, or refuseNone; r is what readHeaders read of h. A request
// built in process (no raw header block) passes. It does not allocate.
//
// Most requests are cleared by counting. By the time a handler runs,
// fasthttp has turned each line of an HTTP/1.1 header block into at most
// one header: duplicates of Content-Type, User-Agent, Cookie or Trailer
// become one; Content-Length next to Transfer-Encoding,
// Transfer-Encoding: identity, Transfer-Encoding: chunked with an empty
// body, and a folded line, none. The one header it adds of its own is
// Content-Length: 0 (a request with no body, or an empty chunked one),
// which r.fields does not count. So a block with no more lines than
// r.fields has no folded line and no Transfer-Encoding fasthttp dropped:
// one bytes.Count, a tenth of the line-by-line scan it spares. The others (HTTP/1.0, Transfer-Encoding:
// chunked, fewer headers than lines, a Content-Length: 0 sent) are
// scanned line by line by badFramingRaw.
func badFraming(h *fasthttp.RequestHeader, r *reqHeaders) refusalKind {
	raw := h.RawHeaders()
	if len(raw) == 0 || !r.te && h.IsHTTP11() && r.fields >= bytes.Count(raw, lf)-1 {
		return refuseNone
	}
	return badFramingRaw(h, raw)
}

var lf = []byte{'\n'}

// badFramingRaw is badFraming reading the raw header block one line at a
// time: the first byte of each line, and a line that is
// Transfer-Encoding; with one, it looks for Content-Length. It does not
// allocate.
func badFramingRaw(h *fasthttp.RequestHeader, raw []byte) refusalKind {
	te, chunked := false, false
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			j = len(raw) - i
		}
		switch line := raw[i : i+j]; raw[i] { // i < len(raw); line may be empty
		case ' ', '\t':
			return refuseObsFold
		case 't', 'T':
			if isField(line, hdrTransferEncoding) {
				te = true // fasthttp refuses a second one
				chunked = bytes.EqualFold(bytes.Trim(line[len(hdrTransferEncoding)+1:], " \t\r"), strChunked)
			}
		}
		i += j + 1
	}
	switch {
	case !te:
		return refuseNone
	case !h.IsHTTP11():
		return refuseTENotHTTP11
	case hasField(raw, hdrContentLength):
		return refuseTEWithCL
	case !chunked: // identity: fasthttp refuses other codings
		return refuseTENotChunked
	}
	return refuseNone
}

var strChunked = []byte("chunked")

// isField reports whether line starts with the field name (any case)
// followed by its colon. fasthttp refuses a request with whitespace
// between a field name and its colon.
func isField(line, name []byte) bool {
	return len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], name)
}

// hasField reports whether the raw header block has a line for the field
// name.
func hasField(raw, name []byte) bool {
	for i := 0; i < len(raw); {
		if raw[i]|0x20 == name[0]|0x20 && isField(raw[i:], name) {
			return true
		}
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// guard returns next behind the checks every route of the app gets, so
// that they hold for the routes besides the MCP endpoint (/healthz,
// /metrics, and Fiber's 404): request framing for every path, Origin
// (the Options.AllowedOrigins rules, one Origin at most) for every path
// but the MCP endpoint, which ServeFastHTTP checks itself. [NewApp]
// installs it around the Fiber app's handler. It does not allocate.
func (h *Handler) guard(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	path := []byte(h.opts.Path)
	return func(ctx *fasthttp.RequestCtx) {
		hdr := readHeaders(&ctx.Request.Header)
		if k := badFraming(&ctx.Request.Header, &hdr); k != refuseNone {
			h.refuse(ctx, k)
			return
		}
		if !h.origins.allowReq(&hdr) && !bytes.Equal(ctx.Path(), path) && !isPRMPath(ctx.Path()) {
			h.refuse(ctx, refuseForbiddenOrigin)
			return
		}
		next(ctx)
	}
}

// ServerErrorHandler is a fasthttp Server.ErrorHandler: it answers what
// fasthttp refuses before any handler runs with a prebuilt JSON-RPC error
// body, echoing nothing of the request (fasthttp's errors quote the
// request bytes, and Fiber's default handler sends them back as
// text/plain):
//
//   - a body over the limit: 413;
//   - a request line and headers that do not fit the read buffer
//     (Options.MaxHeaderBytes with NewApp): 431, or 414 when the request
//     line alone does not (see requestLineFits);
//   - a read timeout: 408;
//   - anything else (malformed request line or header, bad chunk, no
//     Host): 400.
//
// fasthttp closes the connection after it. [NewApp] installs it (in place
// of Fiber's, which maps the errors before the app's ErrorHandler sees
// them); set it on app.Server().ErrorHandler when building an app
// otherwise.
func (h *Handler) ServerErrorHandler(ctx *fasthttp.RequestCtx, err error) {
	ctx.Response.Reset()
	h.refuse(ctx, readRefusal(err))
	ctx.SetConnectionClose()
}

// readRefusal returns the refusal that answers an error fasthttp raises
// while reading a request.
func readRefusal(err error) refusalKind {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return refuseTooLarge
	case errors.As(err, &small):
		if !requestLineFits(err) {
			return refuseURITooLong
		}
		return refuseHeaderTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return refuseRequestTimeout
	}
	return refuseMalformed
}

// requestLineFits tells, for fasthttp's error for a request head that did
// not fit its read buffer, whether the request line did. fasthttp resets
// the request header before the ErrorHandler runs, so the only trace of
// what it read is the error's text: "…: buffer size=N, contents: "
// followed by the buffer quoted (%q), whole or as its first and last 200
// bytes. The line fits if a quoted part holds a line feed. A line longer
// than 200 bytes that ends more than 200 bytes before the buffer's end is
// out of sight: it counts as not fitting (414), as does a buffer too full
// to show any line end. Without contents (SecureErrorLogMessage) the
// answer is that it fits (431).
func requestLineFits(err error) bool {
	msg := err.Error()
	i := strings.Index(msg, "contents: ")
	if i < 0 {
		return true
	}
	rest := msg[i+len("contents: "):]
	for {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return true
		}
		s, err := strconv.Unquote(q)
		if err != nil || strings.IndexByte(s, '\n') >= 0 {
			return true
		}
		rest = rest[len(q):]
		if !strings.HasPrefix(rest, "...") {
			return false
		}
		rest = rest[len("..."):]
	}
}
