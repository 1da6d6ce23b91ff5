package mcp

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
	// MethodTasksGet polls a task (tasks extension, SEP-2663). 2026-07-28
	// only, with [ServerOptions].Tasks set.
	MethodTasksGet = "tasks/get"
	// MethodTasksUpdate answers a task's input requests (SEP-2663).
	MethodTasksUpdate = "tasks/update"
	// MethodTasksCancel cancels a task (SEP-2663).
	MethodTasksCancel = "tasks/cancel"
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
)
