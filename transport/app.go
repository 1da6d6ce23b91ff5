package transport

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
)

// NewApp returns a Fiber app configured for the Streamable HTTP transport
// with h registered at Options.Path:
//
//   - BodyLimit is Options.MaxBodyBytes, and a larger body gets 413 with a
//     JSON-RPC error body (through the app's ErrorHandler);
//   - no WriteTimeout, so SSE responses may live as long as their stream;
//   - IdleTimeout of 2 min between keep-alive requests, so that shutdown
//     does not wait on idle connections forever;
//   - no body-buffering middleware (an etag or compress middleware on the
//     MCP route breaks SSE).
//
// Callers add their own routes (e.g. /healthz) before listening.
func NewApp(h *Handler) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "mcpfiber",
		DisableStartupMessage: true,
		BodyLimit:             h.opts.MaxBodyBytes,
		IdleTimeout:           2 * time.Minute,
		ReadTimeout:           time.Minute,
		ErrorHandler:          h.ErrorHandler,
	})
	h.Register(app)
	return app
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
