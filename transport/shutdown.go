package transport

import (
	"context"
	"time"
)

// DefaultDrainWindow is the drain window main uses: GET streams are closed
// spread over it.
const DefaultDrainWindow = 5 * time.Second

func (h *Handler) drainWindow() time.Duration { return time.Duration(h.drainCfg.Load()) }

// Shutdown drains the Handler, in this order:
//
//  1. New sessions (initialize) and new GET streams get 503 with
//     Retry-After (Options.RetryAfter); requests of live sessions are
//     still answered.
//  2. Each open GET stream ends at a random moment within drain, after an
//     SSE retry field of Options.RetryHint plus a random part of drain, so
//     that clients come back spread out rather than all at once.
//  3. POSTs in flight run to completion: their tool calls finish and their
//     SSE streams carry the responses.
//  4. Every session ends (sessions.EndShutdown), which cancels whatever
//     still runs, and the session map's sweeper stops.
//
// If ctx ends before step 3 completes, every stream is closed at once,
// step 4 runs, and ctx.Err() is returned. Shutdown does not close
// listeners or idle connections: that is the fasthttp server's
// ShutdownWithContext, which its owner runs alongside (see package main).
// Only the first call has an effect; later calls return nil at once.
func (h *Handler) Shutdown(ctx context.Context, drain time.Duration) error {
	var err error
	h.once.Do(func() {
		h.drainCfg.Store(int64(max(drain, 0)))
		h.draining.Store(true)
		close(h.drain)
		h.drainSSE(h.drainWindow())

		select {
		case <-h.calls.Idle():
		case <-ctx.Done():
		}
		select {
		case <-h.writers.Idle():
		case <-ctx.Done():
		}
		err = ctx.Err()
		close(h.stop)
		h.stopSSE()
		h.sessions.Close()
	})
	return err
}

// Draining reports whether Shutdown has begun.
func (h *Handler) Draining() bool { return h.draining.Load() }
