package mcp

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// Methods a client sends the server: requests, with the spec section
// that defines each. See [Server.Inline] and [Server.InlineStateless] for
// which of them each revision serves and how.
const (
	// MethodInitialize starts a session (2025-11-25 basic/lifecycle
	// §Initialization); see [Backend.Initialize]. 2026-07-28 has no
	// initialize.
	MethodInitialize = "initialize"
	// MethodPing checks that the server is alive (2025-11-25
	// basic/utilities/ping). Sessions only.
	MethodPing = "ping"
	// MethodLoggingSetLevel sets the session's minimum log level
	// (2025-11-25 server/utilities/logging). Sessions only: 2026-07-28
	// requests carry the level in _meta.
	MethodLoggingSetLevel = "logging/setLevel"
	// MethodToolsList lists the tools (2025-11-25 server/tools §Listing
	// Tools).
	MethodToolsList = "tools/list"
	// MethodToolsCall calls a tool (2025-11-25 server/tools §Calling
	// Tools).
	MethodToolsCall = "tools/call"
	// MethodPromptsList lists the prompts (2025-11-25 server/prompts
	// §Listing Prompts).
	MethodPromptsList = "prompts/list"
	// MethodPromptsGet renders a prompt (2025-11-25 server/prompts
	// §Getting a Prompt).
	MethodPromptsGet = "prompts/get"
	// MethodResourcesList lists the resources (2025-11-25 server/resources
	// §Listing Resources).
	MethodResourcesList = "resources/list"
	// MethodResourcesTemplatesList lists the resource templates
	// (2025-11-25 server/resources §Resource Templates).
	MethodResourcesTemplatesList = "resources/templates/list"
	// MethodResourcesRead reads a resource (2025-11-25 server/resources
	// §Reading Resources).
	MethodResourcesRead = "resources/read"
	// MethodResourcesSubscribe subscribes the session to a resource's
	// updates (2025-11-25 server/resources §Subscriptions). Sessions only:
	// 2026-07-28 uses subscriptions/listen.
	MethodResourcesSubscribe = "resources/subscribe"
	// MethodResourcesUnsubscribe ends such a subscription.
	MethodResourcesUnsubscribe = "resources/unsubscribe"
	// MethodCompletionComplete asks for argument completions (2025-11-25
	// server/utilities/completion).
	MethodCompletionComplete = "completion/complete"
	// MethodServerDiscover describes the server (2026-07-28
	// server/discover). 2026-07-28 only.
	MethodServerDiscover = "server/discover"
	// MethodSubscriptionsListen opens a stream of notifications (2026-07-28
	// basic/patterns/subscriptions). 2026-07-28 only.
	MethodSubscriptionsListen = "subscriptions/listen"
	// MethodTasksGet polls a task (tasks extension, SEP-2663; 2025-11-25
	// basic/utilities/tasks §Getting Tasks). 2026-07-28 and 2025-11-25
	// sessions, with [ServerOptions].Tasks set.
	MethodTasksGet = "tasks/get"
	// MethodTasksUpdate answers a task's input requests (SEP-2663).
	// 2026-07-28 only.
	MethodTasksUpdate = "tasks/update"
	// MethodTasksCancel cancels a task (SEP-2663; 2025-11-25
	// basic/utilities/tasks §Cancelling Tasks).
	MethodTasksCancel = "tasks/cancel"
	// MethodTasksResult waits for a task's result (2025-11-25
	// basic/utilities/tasks §Retrieving Task Results). 2025-11-25
	// sessions only: SEP-2663 inlines the result in tasks/get.
	MethodTasksResult = "tasks/result"
	// MethodTasksList lists the session's tasks (2025-11-25
	// basic/utilities/tasks §Listing Tasks). 2025-11-25 sessions only.
	MethodTasksList = "tasks/list"
)

// Methods the server sends the client: requests for input (2025-11-25
// client/*), sent in a session or returned as 2026-07-28 input requests
// (see [InputRequest]).
const (
	// MethodElicitationCreate asks the user for input (2025-11-25
	// client/elicitation).
	MethodElicitationCreate = "elicitation/create"
	// MethodSamplingCreateMessage asks the client's model for a message
	// (2025-11-25 client/sampling).
	MethodSamplingCreateMessage = "sampling/createMessage"
	// MethodRootsList asks for the client's roots (2025-11-25
	// client/roots).
	MethodRootsList = "roots/list"
)

// Notifications, from either side, with the spec section that defines
// each.
const (
	// NotificationInitialized (client) ends initialization (2025-11-25
	// basic/lifecycle §Initialization).
	NotificationInitialized = "notifications/initialized"
	// NotificationCancelled (either side) cancels a request (2025-11-25
	// basic/utilities/cancellation).
	NotificationCancelled = "notifications/cancelled"
	// NotificationProgress (either side) reports a request's progress
	// (2025-11-25 basic/utilities/progress).
	NotificationProgress = "notifications/progress"
	// NotificationRootsListChanged (client) says the client's roots
	// changed (2025-11-25 client/roots §Root List Changes).
	NotificationRootsListChanged = "notifications/roots/list_changed"
	// NotificationMessage (server) is a log message (2025-11-25
	// server/utilities/logging §Log Message Notifications).
	NotificationMessage = "notifications/message"
	// NotificationToolsListChanged (server): the tools changed
	// (2025-11-25 server/tools §List Changed Notification).
	NotificationToolsListChanged = "notifications/tools/list_changed"
	// NotificationPromptsListChanged (server): the prompts changed
	// (2025-11-25 server/prompts §List Changed Notification).
	NotificationPromptsListChanged = "notifications/prompts/list_changed"
	// NotificationResourcesListChanged (server): the resources changed
	// (2025-11-25 server/resources §List Changed Notification).
	NotificationResourcesListChanged = "notifications/resources/list_changed"
	// NotificationResourcesUpdated (server): a subscribed resource changed
	// (2025-11-25 server/resources §Subscriptions).
	NotificationResourcesUpdated = "notifications/resources/updated"
	// NotificationSubscriptionsAcknowledged (server) opens a
	// subscriptions/listen stream (2026-07-28 basic/patterns/subscriptions).
	NotificationSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
	// NotificationTasksStatus (server): a task of the session changed
	// status (2025-11-25 basic/utilities/tasks §Task Status Notification).
	NotificationTasksStatus = "notifications/tasks/status"
)

// An era is a set of protocol revisions, as a bit set: which of them
// serve a method.
type era uint8

const (
	// eraLegacy is 2025-03-26 to 2025-11-25: requests of a session, after
	// initialize ([Conn.Handle]).
	eraLegacy era = 1 << iota
	// eraStateless is 2026-07-28: one request per POST, no session
	// ([Server.HandleStateless]).
	eraStateless
	eraBoth = eraLegacy | eraStateless
)

// A capability is what a server declares (2025-11-25 basic/lifecycle
// §Capability Negotiation; 2026-07-28 server/discover) and a method
// needs: a request for a method whose capability the server does not
// declare is answered with -32601 (method not found).
type capability uint8

const (
	capNone        capability = iota // always served
	capLogging                       // always declared
	capTools                         // once a tool was added ([Server.AddTool])
	capPrompts                       // once a prompt was added
	capResources                     // once a resource or template was added
	capCompletions                   // with [ServerOptions].CompletionHandler
	capTasks                         // with [ServerOptions].Tasks
)

// A methodInfo says how the [Server] serves a request method.
type methodInfo struct {
	eras era        // the revisions that serve it; others answer -32601
	cap  capability // what the server must declare; without it, -32601
	// inline: answered at once, sending nothing first (pings, the lists,
	// session settings), so the transport runs it on the HTTP request's
	// goroutine and answers with application/json. The others may run
	// long and send notifications or requests before their response.
	inline bool
	// nameParam is the params member that a 2026-07-28 request's Mcp-Name
	// header must match (2026-07-28 basic/transports §Standard Request
	// Headers; SEP-2663 for tasks/*), or "" when it has no Mcp-Name.
	nameParam string
	// since is the oldest session revision that serves it ("": all of
	// eraLegacy); older sessions answer -32601.
	since string
	// handle answers the request. The call's session is of one of eras.
	handle func(s *Server, c *Call) ([]byte, *jsonrpc.Error)
}

// methods are the request methods the Server serves. initialize is not
// among them: the transport calls [Server.Initialize] for it, and in a
// session or at 2026-07-28 it is unknown (-32601), as is any method not
// listed here.
//
// The transport looks methods up for each request ([Server.Inline],
// [Server.InlineStateless], then the handler): a map lookup, which does
// not allocate (TestInlineAllocs).
var methods = map[string]*methodInfo{
	MethodPing:            {eras: eraLegacy, inline: true, handle: (*Server).ping},
	MethodLoggingSetLevel: {eras: eraLegacy, cap: capLogging, inline: true, handle: (*Server).setLevel},

	MethodToolsList: {eras: eraBoth, cap: capTools, inline: true, handle: (*Server).listTools},
	MethodToolsCall: {eras: eraBoth, cap: capTools, nameParam: "name", handle: (*Server).callTool},

	MethodPromptsList: {eras: eraBoth, cap: capPrompts, inline: true, handle: (*Server).listPrompts},
	MethodPromptsGet:  {eras: eraBoth, cap: capPrompts, nameParam: "name", handle: (*Server).getPrompt},

	MethodResourcesList:          {eras: eraBoth, cap: capResources, inline: true, handle: (*Server).listResources},
	MethodResourcesTemplatesList: {eras: eraBoth, cap: capResources, inline: true, handle: (*Server).listTemplates},
	MethodResourcesRead:          {eras: eraBoth, cap: capResources, nameParam: "uri", handle: (*Server).readResource},
	MethodResourcesSubscribe:     {eras: eraLegacy, cap: capResources, inline: true, handle: (*Server).subscribe},
	MethodResourcesUnsubscribe:   {eras: eraLegacy, cap: capResources, inline: true, handle: (*Server).unsubscribe},

	MethodCompletionComplete: {eras: eraBoth, cap: capCompletions, handle: (*Server).complete},

	MethodServerDiscover:      {eras: eraStateless, inline: true, handle: (*Server).discover},
	MethodSubscriptionsListen: {eras: eraStateless, handle: (*Server).listen},

	MethodTasksGet:    {eras: eraBoth, since: Version20251125, cap: capTasks, nameParam: "taskId", handle: (*Server).getTask},
	MethodTasksUpdate: {eras: eraStateless, cap: capTasks, nameParam: "taskId", handle: (*Server).updateTask},
	MethodTasksCancel: {eras: eraBoth, since: Version20251125, cap: capTasks, nameParam: "taskId", handle: (*Server).cancelTask},
	MethodTasksResult: {eras: eraLegacy, since: Version20251125, cap: capTasks, handle: (*Server).taskResult},
	MethodTasksList:   {eras: eraLegacy, since: Version20251125, cap: capTasks, inline: true, handle: (*Server).listTasks},
}

// method returns how the Server serves name in revisions e, or nil when
// it does not: name is unknown, of other revisions, or of a capability
// the server does not declare. It does not allocate.
func (s *Server) method(name string, e era) *methodInfo {
	m := methods[name]
	if m == nil || m.eras&e == 0 || !s.declares(m.cap) {
		return nil
	}
	return m
}

// declares reports whether the server declares c.
func (s *Server) declares(c capability) bool {
	switch c {
	case capNone, capLogging:
		return true
	case capTools:
		return s.has(kindTools)
	case capPrompts:
		return s.has(kindPrompts)
	case capResources:
		return s.has(kindResources)
	case capCompletions:
		return s.opts.CompletionHandler != nil
	case capTasks:
		return s.tasks != nil
	}
	return false
}

// Inline reports whether a session's request for method is answered at
// once, without sending anything first, so that the transport may run it
// on the request's own goroutine and answer with application/json.
// Everything else may run long and send notifications or requests before
// its response. Methods sessions do not have are answered at once with
// -32601, so they are inline. Inline does not allocate; TestInlineAllocs
// enforces it.
func (s *Server) Inline(method string) bool {
	m := methods[method]
	return m == nil || m.eras&eraLegacy == 0 || m.inline
}

// InlineCall reports whether a request for method with params, which
// [Server.Inline] or [Server.InlineStateless] did not find inline by its
// method, is answered at once all the same: a tools/call of a tool
// registered with [Tool.Inline] ([InlineCaller]). params are a decoded
// request's, valid JSON (jsonrpc.Decode): it reads them with a scan up
// to the tool's name only, borrowing params only for the call, and does
// not allocate (TestInlineCallAllocs); params it cannot read there (not
// an object, an escaped name) are not inline (tools/call then answers
// them on a worker).
func (s *Server) InlineCall(method string, params []byte) bool {
	if method != MethodToolsCall || !s.anyInline.Load() {
		return false
	}
	name, ok := scanToolName(params)
	if !ok {
		return false
	}
	s.mu.RLock()
	t := s.tools[string(name)]
	s.mu.RUnlock()
	return t != nil && t.tool.Inline
}

// InlineStateless reports whether a 2026-07-28 request for method is
// answered at once, sending nothing first: discovery and the lists.
// Methods 2026-07-28 does not have are not (the transport admits them as
// any other request). InlineStateless does not allocate.
func (s *Server) InlineStateless(method string) bool {
	m := methods[method]
	return m != nil && m.eras&eraStateless != 0 && m.inline
}

// handle answers one request of a live session (not initialize): the
// Server's [Conn.Handle]. It returns the encoded result or a JSON-RPC
// error; when the client cancelled the request, the error is
// [ErrNoResponse] and no response may be sent.
func (s *Server) handle(c *Call) (result []byte, err *jsonrpc.Error) {
	m := s.method(c.Method, eraLegacy)
	if m == nil || (m.since != "" && !AtLeast(c.Session.ProtocolVersion, m.since)) {
		return nil, methodNotFound(c.Method)
	}
	return m.handle(s, c)
}

// ping answers ping (2025-11-25 basic/utilities/ping).
func (s *Server) ping(*Call) ([]byte, *jsonrpc.Error) { return emptyResult, nil }

// notifications are the client notifications the Server acts on, by
// method (the Server's [Conn.Notify]); others are ignored, as JSON-RPC
// requires of notifications the receiver does not act on. 2026-07-28
// defines no client notification over HTTP.
var notifications = map[string]func(s *Server, st *SessionState, params json.RawMessage){
	NotificationInitialized: (*Server).initialized,
	NotificationCancelled:   (*Server).cancelled,
	// The Server keeps no copy of the client's roots (handlers ask with
	// [Request.ListRoots] each time), so a change needs nothing.
	NotificationRootsListChanged: func(*Server, *SessionState, json.RawMessage) {},
}

// notify handles a notification from the client: the Server's
// [Conn.Notify].
func (s *Server) notify(st *SessionState, method string, params json.RawMessage) {
	if f := notifications[method]; f != nil {
		f(s, st, params)
	}
}

// initialized handles notifications/initialized (2025-11-25
// basic/lifecycle §Initialization): the session may now be sent requests
// and notifications not related to a request of the client.
func (s *Server) initialized(st *SessionState, _ json.RawMessage) {
	if !st.initialized.Swap(true) {
		st.changed(false)
	}
}

// cancelled handles notifications/cancelled (2025-11-25
// basic/utilities/cancellation): it cancels the named request's context.
func (s *Server) cancelled(st *SessionState, params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if jsonrpc.Unmarshal(params, &p) == nil && len(p.RequestID) > 0 && !st.cancelRequest(p.RequestID) {
		if relay := st.relayFunc(); relay != nil { // it may run in another process
			msg := make([]byte, 0, len(params)+64)
			msg = append(msg, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":`...)
			msg = append(msg, params...)
			relay(append(msg, '}'))
		}
	}
}
