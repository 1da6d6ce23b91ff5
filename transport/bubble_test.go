package transport

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// inBubble runs f in a synctest bubble, where time is fake: it passes only
// while every goroutine of the bubble waits, so a test can assert exact
// timings instead of wall-clock slack. Servers inside are built with
// [newBubbleServer].
func inBubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	// fasthttp starts its Date-header updater, a goroutine that runs for
	// the life of the process, on first use: start it outside the bubbles.
	warmOnce.Do(func() {
		var warm fasthttp.ResponseHeader
		warm.AppendBytes(nil)
	})
	synctest.Test(t, f)
}

var warmOnce sync.Once

// newBubbleServer is [newTestServer] for a synctest bubble (see
// [inBubble]): the app listens on an in-memory listener, which ts.client
// dials whatever the URL's host. Cleanup releases every gate, then does
// what [serveInmemory]'s does.
func newBubbleServer(t *testing.T, opts *Options) *testServer {
	t.Helper()
	ts := &testServer{gates: make(map[string]*gate)}
	ts.srv = newBackend(ts)
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger
	}
	ts.h = NewHandler(ts.srv, opts)
	ts.app = NewApp(ts.h)
	_, ts.client = serveInmemory(t, ts.h, ts.app)
	ts.url = "http://mcp.test" + ts.h.Options().Path
	t.Cleanup(ts.releaseGates) // runs first: the calls end before the drain
	return ts
}

// releaseGates releases every gate.
func (ts *testServer) releaseGates() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, g := range ts.gates {
		g.Release()
	}
}

// serveInmemory serves app, h's app, on a new in-memory listener, from
// inside a synctest bubble. It returns the listener and an HTTP client
// that dials it for every connection, whatever the URL's host.
//
// Cleanup, which runs in the bubble, drains h (unless the test shut it
// down itself), closes the client's idle connections, shuts the app down,
// and then lets fake time run so that the goroutines that poll see the
// shutdown: fasthttp's worker-pool cleaner looks every 10 s.
func serveInmemory(t *testing.T, h *Handler, app *fiber.App) (*fasthttputil.InmemoryListener, *http.Client) {
	ln := fasthttputil.NewInmemoryListener()
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		DialContext:         func(context.Context, string, string) (net.Conn, error) { return ln.Dial() },
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(Listener(ln)) }() // owner: the test; exit: app shutdown in Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if !h.Draining() {
			if err := h.Shutdown(ctx, 0); err != nil {
				t.Errorf("Handler.Shutdown: %v", err)
			}
		}
		tr.CloseIdleConnections()
		if err := app.ShutdownWithContext(ctx); err != nil {
			t.Errorf("app.Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("app.Listener: %v", err)
		}
		time.Sleep(time.Minute)
	})
	return ln, &http.Client{Transport: tr}
}
