package transport

// OpenStreams returns how many SSE streams are being written: GET streams
// (standalone or resumed with Last-Event-ID) and POST responses sent as
// text/event-stream, of every session and of 2026-07-28 requests. It takes
// a lock: it is meant for logs and tests (the mcpfiber binary logs it at
// shutdown), not for a hot path.
func (h *Handler) OpenStreams() int {
	h.writers.mu.Lock()
	defer h.writers.mu.Unlock()
	return h.writers.n
}
