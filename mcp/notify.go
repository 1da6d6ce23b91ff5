package mcp

import (
	"fmt"
	"slices"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// featureKind names a list whose changes clients may follow.
type featureKind uint8

const (
	kindTools featureKind = iota + 1
	kindPrompts
	kindResources
)

func (k featureKind) method() string {
	switch k {
	case kindTools:
		return NotificationToolsListChanged
	case kindPrompts:
		return NotificationPromptsListChanged
	}
	return NotificationResourcesListChanged
}

func (k featureKind) wanted(f *SubscriptionFilter) bool {
	switch k {
	case kindTools:
		return f.ToolsListChanged
	case kindPrompts:
		return f.PromptsListChanged
	}
	return f.ResourcesListChanged
}

// addSession registers a legacy session for notifications until it ends.
func (s *Server) addSession(st *SessionState) {
	st.requestTimeout = s.clientTimeout()
	st.idPrefix = s.opts.RequestIDPrefix
	s.smu.Lock()
	s.sessions[st] = struct{}{}
	s.smu.Unlock()
	st.OnClose(func() {
		s.smu.Lock()
		delete(s.sessions, st)
		s.smu.Unlock()
	})
}

// liveSessions returns the initialized legacy sessions.
func (s *Server) liveSessions() []*SessionState {
	s.smu.Lock()
	defer s.smu.Unlock()
	out := make([]*SessionState, 0, len(s.sessions))
	for st := range s.sessions {
		if st.Initialized() {
			out = append(out, st)
		}
	}
	return out
}

func (s *Server) liveListeners() []*listener {
	s.smu.Lock()
	defer s.smu.Unlock()
	out := make([]*listener, 0, len(s.listeners))
	for l := range s.listeners {
		out = append(out, l)
	}
	return out
}

// listChanged tells the clients that follow a list that it changed: every
// initialized legacy session, on its GET stream (2025-11-25 server/tools
// §List Changed Notification, and the same for prompts and resources),
// and every subscriptions/listen stream that asked for it (2026-07-28
// basic/patterns/subscriptions).
func (s *Server) listChanged(kind featureKind) {
	f := s.opts.OnNotifyAll
	if f == nil || !s.opts.OnNotifyAllSelf {
		s.listChangedHere(kind)
	}
	if f != nil {
		f(kind.method(), nil)
	}
}

// listChangedHere is listChanged for the clients of this process only.
func (s *Server) listChangedHere(kind featureKind) {
	var msg []byte
	for _, st := range s.liveSessions() {
		if msg == nil {
			msg = jsonrpc.AppendNotification(nil, kind.method(), nil)
		}
		_ = st.sendHere(msg) // a session that ended meanwhile misses it
	}
	for _, l := range s.liveListeners() {
		if kind.wanted(&l.filter) {
			l.notify(kind.method(), map[string]any{})
		}
	}
}

// ResourceUpdated tells the clients subscribed to uri that it changed
// (notifications/resources/updated): legacy sessions that sent
// resources/subscribe, on their GET stream, and subscriptions/listen
// streams whose resourceSubscriptions name it.
func (s *Server) ResourceUpdated(uri string) {
	f := s.opts.OnNotifyAll
	if f == nil || !s.opts.OnNotifyAllSelf {
		s.resourceUpdatedHere(uri)
	}
	if f != nil {
		p, _ := jsonrpc.Marshal(&ResourceUpdatedParams{URI: uri})
		f(NotificationResourcesUpdated, p)
	}
}

// LogAll sends notifications/message (2025-11-25
// server/utilities/logging) to every initialized legacy session whose
// logging/setLevel filter passes level, on its GET stream: a log message
// not tied to a request, for every client of the deployment (with
// ServerOptions.OnNotifyAll, the other processes send it to theirs).
// data is any JSON-encodable value; an error is its encoding's, and then
// nothing is sent, as for a level that is not one of the eight. 2026-07-28 subscriptions/listen streams do not carry
// log messages and get none.
func (s *Server) LogAll(level LoggingLevel, logger string, data any) error {
	if level.severity() == 0 {
		return fmt.Errorf("mcp: LogAll: unknown logging level %q", level)
	}
	p, err := jsonrpc.Marshal(&LoggingMessageParams{Level: level, Logger: logger, Data: data})
	if err != nil {
		return err
	}
	f := s.opts.OnNotifyAll
	if f == nil || !s.opts.OnNotifyAllSelf {
		s.logHere(level, p)
	}
	if f != nil {
		f(NotificationMessage, p)
	}
	return nil
}

// logHere is LogAll for the clients of this process; p is the encoded
// LoggingMessageParams.
func (s *Server) logHere(level LoggingLevel, p json.RawMessage) {
	var msg []byte
	for _, st := range s.liveSessions() {
		if !st.wants(level) {
			continue
		}
		if msg == nil {
			msg = jsonrpc.AppendNotification(nil, NotificationMessage, p)
		}
		_ = st.sendHere(msg)
	}
}

// NotifyAll does what the server does when one of its lists changes
// (method notifications/tools/list_changed, …/prompts/list_changed,
// …/resources/list_changed; params ignored), a resource is updated
// (notifications/resources/updated, params {"uri": …}) or it logs for
// every client (notifications/message, params as [Server.LogAll] sends
// them), for the clients of this process only: it is how a notification
// another process of the same deployment raised
// (ServerOptions.OnNotifyAll) reaches them. Other methods,
// resources/updated without a uri and notifications/message without a
// valid level are ignored.
func (s *Server) NotifyAll(method string, params json.RawMessage) {
	switch method {
	case NotificationMessage:
		var p struct {
			Level LoggingLevel `json:"level"`
		}
		if jsonrpc.Unmarshal(params, &p) == nil && p.Level.severity() != 0 {
			s.logHere(p.Level, params)
		}
	case NotificationToolsListChanged:
		s.listChangedHere(kindTools)
	case NotificationPromptsListChanged:
		s.listChangedHere(kindPrompts)
	case NotificationResourcesListChanged:
		s.listChangedHere(kindResources)
	case NotificationResourcesUpdated:
		var p ResourceUpdatedParams
		if jsonrpc.Unmarshal(params, &p) == nil && p.URI != "" {
			s.resourceUpdatedHere(p.URI)
		}
	}
}

// NotifyOne does what [Server.NotifyAll] does, for the legacy session
// st only (on its GET stream, with the same filter: st initialized, its
// logging/setLevel for notifications/message, its resources/subscribe
// for notifications/resources/updated). The transport calls it to
// deliver again, to one session, broadcasts it missed while no process
// held its GET stream (sessions.BroadcastLog). It allocates the message.
func (s *Server) NotifyOne(st *SessionState, method string, params json.RawMessage) {
	if !st.Initialized() {
		return
	}
	switch method {
	case NotificationMessage:
		var p struct {
			Level LoggingLevel `json:"level"`
		}
		if jsonrpc.Unmarshal(params, &p) == nil && p.Level.severity() != 0 && st.wants(p.Level) {
			_ = st.sendHere(jsonrpc.AppendNotification(nil, NotificationMessage, params))
		}
	case NotificationToolsListChanged, NotificationPromptsListChanged, NotificationResourcesListChanged:
		_ = st.sendHere(jsonrpc.AppendNotification(nil, method, nil))
	case NotificationResourcesUpdated:
		var p ResourceUpdatedParams
		if jsonrpc.Unmarshal(params, &p) == nil && p.URI != "" && st.subscribed(p.URI) {
			b, _ := jsonrpc.Marshal(&ResourceUpdatedParams{URI: p.URI})
			_ = st.sendHere(jsonrpc.AppendNotification(nil, NotificationResourcesUpdated, b))
		}
	}
}

// resourceUpdatedHere is ResourceUpdated for the clients of this process.
func (s *Server) resourceUpdatedHere(uri string) {
	p, _ := jsonrpc.Marshal(&ResourceUpdatedParams{URI: uri})
	msg := jsonrpc.AppendNotification(nil, NotificationResourcesUpdated, p)
	for _, st := range s.liveSessions() {
		if st.subscribed(uri) {
			_ = st.sendHere(msg)
		}
	}
	for _, l := range s.liveListeners() {
		if slices.Contains(l.filter.ResourceSubscriptions, uri) {
			l.notify(NotificationResourcesUpdated, map[string]any{"uri": uri})
		}
	}
}

// A listener is one open subscriptions/listen stream.
type listener struct {
	id     json.RawMessage // the listen request's ID: the subscription ID
	filter SubscriptionFilter
	out    Outbound
}

// notify sends a notification on the stream with the subscription ID in
// params._meta (2026-07-28 basic/patterns/subscriptions: every
// notification "MUST include the subscriptionId").
func (l *listener) notify(method string, params map[string]any) {
	params["_meta"] = map[string]any{MetaSubscriptionID: l.id}
	p, err := jsonrpc.Marshal(params)
	if err != nil {
		return
	}
	_ = l.out.Send(jsonrpc.AppendNotification(nil, method, p))
}
