package mcp_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// The examples drive a [mcp.Server] in-process, as the Streamable HTTP
// transport does: Server.Initialize opens a session and returns its
// mcp.Conn, Conn.Handle answers one request, and the Call's Out receives
// what the server sends before the response.

// outFunc adapts a function to [mcp.Outbound], as http.HandlerFunc adapts
// one to http.Handler.
type outFunc func(msg []byte) error

func (f outFunc) Send(msg []byte) error { return f(msg) }

// printOut prints each message the server sends before its response.
var printOut = outFunc(func(msg []byte) error {
	fmt.Printf("server sends %s\n", msg)
	return nil
})

// connect initializes a 2025-11-25 session of srv for a client that
// declares caps (a JSON object), completes the handshake with
// notifications/initialized, and returns the session's Conn.
func connect(srv *mcp.Server, caps string) mcp.Conn {
	_, conn, jerr := srv.Initialize(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":` + caps +
		`,"clientInfo":{"name":"example-client","version":"1"}}`))
	if jerr != nil {
		log.Fatal(jerr)
	}
	conn.Notify("notifications/initialized", nil)
	return conn
}
