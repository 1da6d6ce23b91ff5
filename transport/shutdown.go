package transport

import (
	"context"
	"time"
)

// DefaultDrainWindow is the drain window main uses: GET streams are closed
// spread over it.
const DefaultDrainWindow = 5 * time.Second

func (h *Handler) drainWindow() time.Duration { return time.Duration(h.drainCfg.Load()) }

// MaxFinalWindow bounds the part of Shutdown's deadline kept for the
// final answers: when ctx has a deadline, the requests still running are
// answered and cancelled min(MaxFinalWindow, a tenth of the time left)
// before it, so that the answers are written before the deadline.
const MaxFinalWindow = time.Second

// Shutdown drains the Handler, in this order:
//
//  1. New sessions (initialize) and new GET streams get 503 with
//     Retry-After (Options.RetryAfter); requests of live sessions are
//     still answered, each with Connection: close, so that no request
//     races with the connection's closing at the end.
//  2. Each open GET stream ends at a random moment within drain, after an
//     SSE retry field of Options.RetryHint plus a random part of drain, so
//     that clients come back spread out rather than all at once.
//  3. POSTs in flight run to completion: their tool calls finish and their
//     SSE streams carry the responses.
//  4. Every session ends (sessions.EndShutdown), which cancels whatever
//     still runs, and the session map's sweeper stops.
//
// If step 3 has not completed shortly before ctx's deadline (see
// MaxFinalWindow; at once when ctx ends without one), every request still
// running is answered with a JSON-RPC error (-32000, "the server shut down
// before the request completed") in place of its response and cancelled,
// the GET streams still open are closed, and the POSTs' answers, JSON or
// SSE, get until ctx ends to be written to their end; then step 4 runs
// and ctx.Err() is returned. Shutdown does not close listeners or idle
// connections: that is the fasthttp server's ShutdownWithContext, which
// its owner runs alongside (see server.Server.Shutdown). Only the first
// call has an effect; later calls return nil at once.
func (h *Handler) Shutdown(ctx context.Context, drain time.Duration) error {
	var err error
	h.once.Do(func() {
		h.drainCfg.Store(int64(max(drain, 0)))
		h.draining.Store(true)
		close(h.drain)
		h.drainSSE(h.drainWindow())

		run := ctx // until the requests still running are ended
		if d, ok := ctx.Deadline(); ok {
			final := min(MaxFinalWindow, time.Until(d)/10)
			var cancel context.CancelFunc
			run, cancel = context.WithDeadline(ctx, d.Add(-final))
			defer cancel()
		}
		select {
		case <-h.calls.Idle():
		case <-run.Done():
		}
		select {
		case <-h.writers.Idle():
		case <-run.Done():
		}
		if run.Err() != nil {
			err = ctx.Err()
			if err == nil {
				err = context.DeadlineExceeded // the grace period, less the final window
			}
		}
		close(h.stop)
		h.endFlights()
		h.stopSSE()
		select {
		case <-h.writers.Idle(): // the final answers are written
		case <-ctx.Done():
		}
		close(h.halt)
		h.sessions.Close()
	})
	return err
}

// Draining reports whether Shutdown has begun.
func (h *Handler) Draining() bool { return h.draining.Load() }
