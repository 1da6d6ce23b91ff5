package server

import (
	"context"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/redisstore"
)

// Forwarding 2026-07-28 tasks/* requests between nodes: a task runs on
// the node whose tools/call made it, and its ID starts with that node's
// ID (mcp.ServerOptions.RequestIDPrefix); a tasks/get, tasks/update or
// tasks/cancel that lands on another node is passed to it over Redis
// (redisstore.Store.Call) and answered with its answer.

// forwarded is a forwarded request, and its answer, on the wire.
type forwarded struct {
	Method  string            `json:"method,omitempty"`
	ID      json.RawMessage   `json:"id,omitempty"`
	Params  json.RawMessage   `json:"params,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Principal is who sent it (auth on): the task's node checks what the
	// node it landed on would have.
	Principal *mcp.Principal `json:"principal,omitempty"`

	Result json.RawMessage `json:"result,omitempty"`
	Error  *jsonrpc.Error  `json:"error,omitempty"`
}

// forwardTask is mcp.ServerOptions.ForwardTask over st.
func forwardTask(st *redisstore.Store) func(ctx context.Context, node string, req *mcp.StatelessCall) ([]byte, *jsonrpc.Error) {
	return func(ctx context.Context, node string, req *mcp.StatelessCall) ([]byte, *jsonrpc.Error) {
		q, err := jsonrpc.Marshal(forwarded{Method: req.Method, ID: req.ID, Params: req.Params, Headers: req.Headers, Principal: req.Principal})
		if err != nil {
			return nil, jsonrpc.AsError(err)
		}
		id := strings.TrimSuffix(node, "-")
		if !redisstore.ValidNodeID(id) { // a task ID no node made
			return nil, errUnknownTask
		}
		ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
		defer cancel()
		a, err := st.Call(ctx, id, q)
		if err != nil { // no such node, or it is gone with its tasks
			return nil, errUnknownTask
		}
		var ans forwarded
		if err := jsonrpc.Unmarshal(a, &ans); err != nil {
			return nil, jsonrpc.AsError(err)
		}
		if ans.Error != nil {
			return nil, ans.Error
		}
		return ans.Result, nil
	}
}

// forwardTimeout bounds a forwarded request: tasks/* requests answer at
// once, so a node that has not answered by then is gone (its tasks with
// it).
const forwardTimeout = 2 * time.Second

// errUnknownTask answers a tasks/* request for a task no live node holds
// (basic/utilities/tasks: an invalid or unknown taskId is -32602).
var errUnknownTask = jsonrpc.NewError(jsonrpc.CodeInvalidParams, "unknown task: no node runs a task of this ID")

// answerForwarded is the redisstore OnCall function: it answers a
// forwarded request with srv, as if it had come over HTTP.
func answerForwarded(srv *mcp.Server) func(ctx context.Context, payload []byte) []byte {
	return func(ctx context.Context, payload []byte) []byte {
		var q forwarded
		var ans forwarded
		if err := jsonrpc.Unmarshal(payload, &q); err != nil {
			ans.Error = jsonrpc.AsError(err)
		} else {
			ans.Result, ans.Error = srv.HandleStateless(&mcp.StatelessCall{
				Method: q.Method, ID: q.ID, Params: q.Params, Headers: q.Headers,
				Principal: q.Principal, Out: discard{}, Context: ctx,
			})
		}
		b, err := jsonrpc.Marshal(ans)
		if err != nil {
			b, _ = jsonrpc.Marshal(forwarded{Error: jsonrpc.AsError(err)})
		}
		return b
	}
}

// discard is the Outbound of a forwarded request: tasks/* requests send
// nothing before their answer.
type discard struct{}

func (discard) Send([]byte) error { return nil }

// Notifications for every client (a list changed, a resource was
// updated, a log message for all) raised on one node reach the clients
// of every node: the node that raised them adds them to the broadcast
// log in Redis (mcp.ServerOptions.OnNotifyAll, redisstore Broadcast), and
// every node, that one included, reads the log in order and tells its
// own clients (transport.Options.OnBroadcast → mcp.Server.NotifyAll). A
// node that takes a GET stream over delivers again to that one session
// the broadcasts its client missed (transport.Options.ReplayBroadcast →
// mcp.Server.NotifyOne).

// notifyAll is the wire form of a broadcast notification.
type notifyAll struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// broadcastNotify is mcp.ServerOptions.OnNotifyAll over st.
func broadcastNotify(st *redisstore.Store) func(method string, params json.RawMessage) {
	return func(method string, params json.RawMessage) {
		if b, err := jsonrpc.Marshal(notifyAll{Method: method, Params: params}); err == nil {
			st.Broadcast(b)
		}
	}
}

// notifyHere is the transport's OnBroadcast function: a notification of
// the broadcast log, for this node's clients.
func notifyHere(srv *mcp.Server) func(payload []byte) {
	return func(payload []byte) {
		var n notifyAll
		if jsonrpc.Unmarshal(payload, &n) == nil {
			srv.NotifyAll(n.Method, n.Params)
		}
	}
}

// notifyOne is the transport's ReplayBroadcast function: a notification
// of the broadcast log, for one session.
func notifyOne(srv *mcp.Server) func(st *mcp.SessionState, payload []byte) {
	return func(st *mcp.SessionState, payload []byte) {
		var n notifyAll
		if jsonrpc.Unmarshal(payload, &n) == nil {
			srv.NotifyOne(st, n.Method, n.Params)
		}
	}
}
