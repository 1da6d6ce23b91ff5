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
	ts := newTestHandler(opts, NewApp)
	_, ts.client = serveInmemory(t, ts.h, ts.app)
	t.Cleanup(ts.releaseGates) // runs first: the calls end before the drain
	ts.url = "http://mcp.test" + ts.h.Options().Path
	return ts
}

// serveInmemory serves app, h's app, on a new in-memory listener, from
// inside a synctest bubble (see [serve]). It returns the listener and an
// HTTP client that dials it for every connection, whatever the URL's
// host. Its cleanup then lets fake time run, so that the goroutines that
// poll see the shutdown: fasthttp's worker-pool cleaner looks every 10 s.
func serveInmemory(t *testing.T, h *Handler, app *fiber.App) (*fasthttputil.InmemoryListener, *http.Client) {
	ln := fasthttputil.NewInmemoryListener()
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		DialContext:         func(context.Context, string, string) (net.Conn, error) { return ln.Dial() },
	}
	t.Cleanup(func() { time.Sleep(time.Minute) }) // runs after serve's
	serve(t, h, app, Listener(ln), tr, time.Minute)
	return ln, &http.Client{Transport: tr}
}
