package transport

import (
	"context"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Relaying between nodes. With a session store that is a [sessions.Relay]
// (redisstore), several nodes serve one session, and a client's POST may
// land on a node other than the one its message concerns: the response
// to an elicitation a tool call on another node sent, or a
// notifications/cancelled for a call running on another node. The node it
// landed on relays it (mcp.SessionState.SetRelay: only what matches
// nothing here), and the node holding the request takes it (relayed).

// relayTimeout bounds one relay: a PUBLISH.
const relayTimeout = 2 * time.Second

// wireRelay makes st relay, through the store, the messages of session
// s that match nothing on this node. Without a relaying store it does
// nothing.
func (h *Handler) wireRelay(s *sessions.Session, st *mcp.SessionState) {
	if h.relay == nil {
		return
	}
	id := s.ID()
	st.SetRelay(func(msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
		defer cancel()
		if err := h.relay.Relay(ctx, id, msg); err != nil {
			h.log.Warn("relaying a client's message to the other nodes failed; the request it answers will time out", "session", id, "err", err)
		}
	})
}

// relayed takes a message another node relayed for session id: a response
// goes to the request this node sent, a notifications/cancelled cancels
// the request running here. Messages for sessions not held here, or that
// match nothing here, are dropped: another node takes them.
func (h *Handler) relayed(id string, msg []byte) {
	s := h.sessions.Lookup(id)
	if s == nil || s.Conn() == nil {
		return
	}
	st := s.Conn().State()
	msgs, _, err := jsonrpc.Decode(msg)
	if err != nil || len(msgs) != 1 {
		return
	}
	m := msgs[0]
	switch {
	case m.Kind == jsonrpc.KindResponse:
		st.Deliver(m)
	case m.Kind == jsonrpc.KindNotification && m.Method == mcp.NotificationCancelled:
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if jsonrpc.Unmarshal(m.Params, &p) == nil && len(p.RequestID) > 0 {
			st.Cancel(p.RequestID)
		}
	}
}
