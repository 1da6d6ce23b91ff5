package transport

// For the external tests (package transport_test): the synctest bubble
// and the in-memory server of bubble_test.go.
var (
	InBubble      = inBubble
	ServeInmemory = serveInmemory
)
