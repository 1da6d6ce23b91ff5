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
//   - no WriteTimeout, so SSE responses may live as long as their stream;
//   - no body-buffering middleware (an etag or compress middleware on the
//     MCP route breaks SSE);
//   - KeepHijackedConns, so that a GET stream, written on the connection
//     fasthttp hands over, needs no goroutine of its own while idle.
//
// Callers add their own routes (e.g. /healthz) before listening, and
// should serve it on a [Listener] (app.Listener(transport.Listener(ln))).
func NewApp(h *Handler) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "mcpfiber",
		DisableStartupMessage: true,
		BodyLimit:             h.opts.MaxBodyBytes,
		IdleTimeout:           2 * time.Minute,
		ReadTimeout:           2 * time.Minute,
		ErrorHandler:          h.ErrorHandler,
	})
	// GET streams are written on hijacked connections without a goroutine
	// each (see sseConn): the server must leave those connections open.
	app.Server().KeepHijackedConns = true
	h.hijackKept.Store(true)
	h.Register(app)
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

// ErrorHandler is a Fiber ErrorHandler that answers the errors fasthttp
// raises before a handler runs in the transport's terms: a body over the
// limit gets 413 with a JSON-RPC error body. Other errors go to Fiber's
// DefaultErrorHandler.
func (h *Handler) ErrorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge {
		h.opts.Observer.Refused(fiber.StatusRequestEntityTooLarge, RefusalTooLarge)
		reply(c.Context(), fiber.StatusRequestEntityTooLarge, bodyTooLarge)
		return nil
	}
	return fiber.DefaultErrorHandler(c, err)
}
