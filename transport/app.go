package transport

import (
	"bytes"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// NewApp returns a Fiber app configured for the Streamable HTTP transport
// with h registered at Options.Path:
//
//   - BodyLimit is Options.MaxBodyBytes, and a larger body gets 413 with a
//     JSON-RPC error body (through the app's ErrorHandler);
//   - IdleTimeout of 2 min between keep-alive requests, so that idle
//     connections do not pile up and shutdown does not wait on them
//     forever. It is longer than the idle timeouts of the clients and
//     proxies in front (Go's http.Transport 90 s, nginx upstream keepalive
//     60 s), so that they close an idle connection first: a server that
//     closes first races the client's next request on it, and a POST lost
//     that way is not retried;
//   - ReadTimeout of 2 min to read a request, headers and body, so that a
//     client sending its request a byte at a time cannot hold a
//     connection; equal to IdleTimeout so that a [Listener] can leave a
//     busy connection's read deadline alone;
//   - no WriteTimeout (fasthttp arms it once per response, which would cut
//     off SSE streams that are being read): each write is bounded instead
//     by the [ConnListener]'s write timeout and, for SSE, by the writers'
//     own deadlines (Options.WriteTimeout);
//   - no body-buffering middleware (an etag or compress middleware on the
//     MCP route breaks SSE);
//   - KeepHijackedConns, so that a GET stream, written on the connection
//     fasthttp hands over, needs no goroutine of its own while idle;
//   - a read buffer of Options.MaxHeaderBytes (fasthttp's ReadBufferSize),
//     the room for the request line and headers: past it 431 (414 when
//     the request line alone does not fit);
//   - [Handler.ServerErrorHandler] for what fasthttp refuses before a
//     handler runs (400, 408, 413, 414, 431 with JSON-RPC error bodies,
//     nothing of the request echoed);
//   - a guard around the app's handler, so that every route (those the
//     caller adds too) refuses a request with ambiguous framing
//     (Transfer-Encoding with Content-Length, obs-fold, Transfer-Encoding
//     on HTTP/1.0) with 400 and Connection: close, and a request whose
//     Origin is not allowed, or that has more than one, with 403, as the
//     MCP endpoint does.
//
// Callers add their own routes (e.g. /healthz) before listening, and
// should serve it on a [ConnListener]
// (app.Listener(transport.NewListener(ln, nil))): it survives descriptor
// exhaustion, caps connections and bounds the writes of JSON answers.
func NewApp(h *Handler) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "mcpfiber",
		DisableStartupMessage: true,
		BodyLimit:             h.opts.MaxBodyBytes,
		IdleTimeout:           2 * time.Minute,
		ReadTimeout:           2 * time.Minute,
		ReadBufferSize:        h.opts.MaxHeaderBytes,
		ErrorHandler:          h.ErrorHandler,
	})
	app.Server().ErrorHandler = h.ServerErrorHandler
	// GET streams are written on hijacked connections without a goroutine
	// each (see sseConn): the server must leave those connections open.
	app.Server().KeepHijackedConns = true
	h.hijackKept.Store(true)
	h.Register(app)
	app.Server().Handler = h.guard(app.Server().Handler)
	return app
}

// Route returns a fasthttp handler that serves requests for exactly
// Options.Path with h, skipping next, and passes every other request to
// next. next is typically a Fiber app's handler (app.Server().Handler), so
// the MCP endpoint, and its 404 fast path, pay for no routing. It skips
// Fiber's middleware too: do not use it when the MCP route needs Fiber
// middleware (authentication, say). The mcpfiber binary uses it. It does
// not allocate.
func (h *Handler) Route(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	path := []byte(h.opts.Path)
	return func(ctx *fasthttp.RequestCtx) {
		if bytes.Equal(ctx.Path(), path) {
			h.ServeFastHTTP(ctx)
			return
		}
		next(ctx)
	}
}

// ErrorHandler is a Fiber ErrorHandler that answers in the transport's
// terms, with JSON-RPC error bodies that echo nothing of the request: the
// router's 404 (no route for the path) and 405 (Fiber sets Allow), and
// the errors Fiber maps from fasthttp's (when fasthttp's ErrorHandler is
// Fiber's, not [Handler.ServerErrorHandler] as with [NewApp]): a body over
// the limit gets 413, headers over the limit 431 and a read timeout 408.
// Other errors go to Fiber's DefaultErrorHandler.
func (h *Handler) ErrorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		for _, k := range fiberRefusals {
			if refusals[k].status == fe.Code {
				h.refuse(c.Context(), k)
				return nil
			}
		}
	}
	return fiber.DefaultErrorHandler(c, err)
}

// fiberRefusals are the refusals [Handler.ErrorHandler] answers Fiber's
// errors with, found by their status.
var fiberRefusals = [...]refusalKind{refuseTooLarge, refuseHeaderTooLarge, refuseRequestTimeout, refuseNoRoute, refuseRouteMethod}
