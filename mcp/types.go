package mcp

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// Meta is the _meta member of params and results: keys are names such as
// "progressToken" or "io.modelcontextprotocol/serverInfo" (2025-11-25
// basic §Meta).
type Meta map[string]any

// Keys of _meta used by 2026-07-28 (basic §Request Metadata, §Result
// Metadata; basic/patterns/subscriptions).
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	MetaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// Result types of 2026-07-28 (basic §Results: every result carries
// resultType).
const (
	ResultTypeComplete      = "complete"
	ResultTypeInputRequired = "input_required"
)

// Cache scopes of 2026-07-28 server/utilities/caching.
const (
	CacheScopePublic  = "public"
	CacheScopePrivate = "private"
)

// Implementation names a client or server (clientInfo, serverInfo).
type Implementation struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	WebsiteURL  string `json:"websiteUrl,omitempty"`
	Icons       []Icon `json:"icons,omitempty"`
}

// An Icon is an image a client may show for a server, tool, resource or
// prompt (2025-11-25 basic §Icons).
type Icon struct {
	Src      string   `json:"src"`
	MIMEType string   `json:"mimeType,omitempty"`
	Sizes    []string `json:"sizes,omitempty"`
	Theme    string   `json:"theme,omitempty"`
}

// InitializeParams are the params of initialize (2025-11-25
// basic/lifecycle §Initialization).
type InitializeParams struct {
	ProtocolVersion string          `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ClientInfo      *Implementation `json:"clientInfo"`
}

// InitializeResult is the result of initialize.
type InitializeResult struct {
	ProtocolVersion string             `json:"protocolVersion"`
	Capabilities    ServerCapabilities `json:"capabilities"`
	ServerInfo      Implementation     `json:"serverInfo"`
	Instructions    string             `json:"instructions,omitempty"`
}

// ServerCapabilities are what the server declares at initialize and in
// server/discover. A nil member is not declared.
type ServerCapabilities struct {
	Completions  *struct{}             `json:"completions,omitempty"`
	Experimental map[string]any        `json:"experimental,omitempty"`
	Extensions   map[string]any        `json:"extensions,omitempty"`
	Logging      *struct{}             `json:"logging,omitempty"`
	Prompts      *PromptCapabilities   `json:"prompts,omitempty"`
	Resources    *ResourceCapabilities `json:"resources,omitempty"`
	Tools        *ToolCapabilities     `json:"tools,omitempty"`
	// Tasks is the experimental tasks capability of 2025-11-25 sessions
	// (basic/utilities/tasks; 2026-07-28 declares the tasks extension in
	// Extensions instead).
	Tasks *TasksCapability `json:"tasks,omitempty"`
}

// ToolCapabilities describe the tools capability.
type ToolCapabilities struct {
	ListChanged bool `json:"listChanged"`
}

// PromptCapabilities describe the prompts capability.
type PromptCapabilities struct {
	ListChanged bool `json:"listChanged"`
}

// ResourceCapabilities describe the resources capability.
type ResourceCapabilities struct {
	Subscribe   bool `json:"subscribe"`
	ListChanged bool `json:"listChanged"`
}

// ClientCapabilities are the capabilities a client declared: at
// initialize for a session, in _meta for each 2026-07-28 request. Members
// are kept raw; a nil member means "not declared". The methods say what a
// declaration allows the server to ask.
type ClientCapabilities struct {
	Roots        json.RawMessage `json:"roots,omitempty"`
	Sampling     json.RawMessage `json:"sampling,omitempty"`
	Elicitation  json.RawMessage `json:"elicitation,omitempty"`
	Experimental json.RawMessage `json:"experimental,omitempty"`
	Extensions   json.RawMessage `json:"extensions,omitempty"`
	Tasks        json.RawMessage `json:"tasks,omitempty"`
}

func declared(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// hasMember reports whether raw is an object with the member key.
func hasMember(raw json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if jsonrpc.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// CanSample reports whether the client accepts sampling/createMessage.
func (c *ClientCapabilities) CanSample() bool { return c != nil && declared(c.Sampling) }

// CanSampleWithTools reports whether the client accepts sampling requests
// that offer tools (2025-11-25 client/sampling §Tools: sampling.tools).
func (c *ClientCapabilities) CanSampleWithTools() bool {
	return c.CanSample() && hasMember(c.Sampling, "tools")
}

// CanListRoots reports whether the client accepts roots/list.
func (c *ClientCapabilities) CanListRoots() bool { return c != nil && declared(c.Roots) }

// CanElicitForm reports whether the client accepts form-mode elicitation
// (2025-11-25 client/elicitation §Capabilities: an empty elicitation
// object means form mode).
func (c *ClientCapabilities) CanElicitForm() bool {
	if c == nil || !declared(c.Elicitation) {
		return false
	}
	var m map[string]json.RawMessage
	if jsonrpc.Unmarshal(c.Elicitation, &m) != nil {
		return false
	}
	_, form := m["form"]
	_, url := m["url"]
	return form || !url
}

// CanElicitURL reports whether the client accepts URL-mode elicitation.
func (c *ClientCapabilities) CanElicitURL() bool {
	return c != nil && declared(c.Elicitation) && hasMember(c.Elicitation, "url")
}

// HasExtension reports whether the client declared the extension id in
// capabilities.extensions (2026-07-28 basic §Extensions).
func (c *ClientCapabilities) HasExtension(id string) bool {
	return c != nil && declared(c.Extensions) && hasMember(c.Extensions, id)
}

// A Tool is a tool definition as listed by tools/list (2025-11-25
// server/tools §Tool). InputSchema must be a JSON Schema object with
// "type":"object"; it is sent as given, byte for byte, so 2020-12 keywords
// ($schema, $defs, additionalProperties, x-mcp-header) survive.
type Tool struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description,omitempty"`
	InputSchema  json.RawMessage  `json:"inputSchema"`
	OutputSchema json.RawMessage  `json:"outputSchema,omitempty"`
	Annotations  *ToolAnnotations `json:"annotations,omitempty"`
	Execution    *ToolExecution   `json:"execution,omitempty"`
	Icons        []Icon           `json:"icons,omitempty"`
	Meta         Meta             `json:"_meta,omitempty"`
	// Scopes are the OAuth scopes a tools/call of this tool needs, on top
	// of the server's own (transport: 403 insufficient_scope listing all of
	// them when the token lacks one). Not sent to clients.
	Scopes []string `json:"-"`
	// Inline marks a tool that answers at once and asks the client
	// nothing: the transport runs its tools/call on the HTTP request's
	// own goroutine instead of handing it to a call worker
	// ([Server.InlineCall]), which saves the hand-off of every call. The
	// price: a slow inline tool holds up its connection, is not counted
	// by the in-flight caps and has no call deadline; what it sends
	// before its result (progress, log messages) reaches the client
	// with the result, not as it goes; and it cannot ask the client
	// (Elicit, CreateMessage and ListRoots fail with [ErrInlineTool]:
	// nothing would carry the question before the tool returns). A call
	// that runs as a task is not affected. Not sent to clients.
	Inline bool `json:"-"`
}

// ToolAnnotations are hints about a tool's behaviour (2025-11-25
// server/tools §Tool Annotations).
type ToolAnnotations struct {
	Title           string `json:"title,omitempty"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// ToolExecution says how a tool may run: TaskSupport is "forbidden"
// (default), "optional" or "required" (2025-11-25 basic/utilities/tasks
// §Tool-Level Negotiation).
type ToolExecution struct {
	TaskSupport string `json:"taskSupport,omitempty"`
}

// ListToolsResult is the result of tools/list.
type ListToolsResult struct {
	Tools      []*Tool `json:"tools"`
	NextCursor string  `json:"nextCursor,omitempty"`
	CacheHints
}

// CacheHints are the 2026-07-28 members of results (basic §Results,
// server/utilities/caching); empty, and so omitted, in legacy sessions.
type CacheHints struct {
	ResultType string `json:"resultType,omitempty"`
	TTLMs      *int64 `json:"ttlMs,omitempty"`
	CacheScope string `json:"cacheScope,omitempty"`
	Meta       Meta   `json:"_meta,omitempty"`
}

// CallToolParams are the params of tools/call. InputResponses and
// RequestState carry the answers of a multi round-trip request (2026-07-28
// basic/patterns/mrtr); RequestState is the plain state the handler
// returned before (the server seals it on the wire).
type CallToolParams struct {
	Name           string          `json:"name"`
	Arguments      json.RawMessage `json:"arguments,omitempty"`
	Meta           *RequestMeta    `json:"_meta,omitempty"`
	InputResponses InputResponses  `json:"inputResponses,omitempty"`
	RequestState   string          `json:"requestState,omitempty"`
	// Task asks for the call to run as a task (tasks extension).
	Task json.RawMessage `json:"task,omitempty"`
}

// RequestMeta is the _meta member of request params.
type RequestMeta struct {
	// ProgressToken is the raw JSON token (a string or a number) to echo in
	// notifications/progress, with its original type.
	ProgressToken json.RawMessage `json:"progressToken,omitempty"`
}

// CallToolResult is the result of tools/call. IsError marks a tool
// execution error (2025-11-25 server/tools §Error Handling), as opposed to a
// JSON-RPC protocol error.
//
// A handler that needs input from the client first returns InputRequests
// (and optionally RequestState) instead of Content: 2026-07-28 clients get
// an InputRequiredResult and call again with the answers; in legacy
// sessions the server asks the client itself (sampling, elicitation,
// roots) and calls the handler again.
type CallToolResult struct {
	Content           []Content `json:"content"`
	StructuredContent any       `json:"structuredContent,omitempty"`
	IsError           bool      `json:"isError,omitempty"`
	CacheHints

	InputRequests InputRequests `json:"-"`
	RequestState  string        `json:"-"`
}

// ProgressNotificationParams are the params of notifications/progress
// (2025-11-25 basic/utilities/progress).
type ProgressNotificationParams struct {
	ProgressToken json.RawMessage `json:"progressToken"`
	Progress      float64         `json:"progress"`
	Total         float64         `json:"total,omitempty"`
	Message       string          `json:"message,omitempty"`
}

// LoggingMessageParams are the params of notifications/message (2025-11-25
// server/utilities/logging).
type LoggingMessageParams struct {
	Level  LoggingLevel `json:"level"`
	Logger string       `json:"logger,omitempty"`
	Data   any          `json:"data"`
}

// Role is "user" or "assistant".
type Role string

// A Resource is a resource as listed by resources/list (2025-11-25
// server/resources §Resource).
type Resource struct {
	URI         string       `json:"uri"`
	Name        string       `json:"name"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	MIMEType    string       `json:"mimeType,omitempty"`
	Size        *int64       `json:"size,omitempty"`
	Annotations *Annotations `json:"annotations,omitempty"`
	Icons       []Icon       `json:"icons,omitempty"`
	Meta        Meta         `json:"_meta,omitempty"`
	// Scopes are the OAuth scopes a resources/read of this resource needs
	// (see [Tool].Scopes). Not sent to clients.
	Scopes []string `json:"-"`
}

// A ResourceTemplate describes parameterized resources by an RFC 6570 URI
// template (2025-11-25 server/resources §Resource Templates).
type ResourceTemplate struct {
	URITemplate string       `json:"uriTemplate"`
	Name        string       `json:"name"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	MIMEType    string       `json:"mimeType,omitempty"`
	Annotations *Annotations `json:"annotations,omitempty"`
	Icons       []Icon       `json:"icons,omitempty"`
	Meta        Meta         `json:"_meta,omitempty"`
}

// Annotations are hints for the client about a resource or content block.
type Annotations struct {
	Audience     []Role   `json:"audience,omitempty"`
	Priority     *float64 `json:"priority,omitempty"`
	LastModified string   `json:"lastModified,omitempty"`
}

// ListResourcesResult is the result of resources/list.
type ListResourcesResult struct {
	Resources  []*Resource `json:"resources"`
	NextCursor string      `json:"nextCursor,omitempty"`
	CacheHints
}

// ListResourceTemplatesResult is the result of resources/templates/list.
type ListResourceTemplatesResult struct {
	ResourceTemplates []*ResourceTemplate `json:"resourceTemplates"`
	NextCursor        string              `json:"nextCursor,omitempty"`
	CacheHints
}

// ReadResourceParams are the params of resources/read.
type ReadResourceParams struct {
	URI            string         `json:"uri"`
	Meta           *RequestMeta   `json:"_meta,omitempty"`
	InputResponses InputResponses `json:"inputResponses,omitempty"`
	RequestState   string         `json:"requestState,omitempty"`
}

// ReadResourceResult is the result of resources/read. See
// [CallToolResult] for InputRequests and RequestState.
type ReadResourceResult struct {
	Contents []*ResourceContents `json:"contents"`
	CacheHints

	InputRequests InputRequests `json:"-"`
	RequestState  string        `json:"-"`
}

// SubscribeParams are the params of resources/subscribe and
// resources/unsubscribe.
type SubscribeParams struct {
	URI string `json:"uri"`
}

// ResourceUpdatedParams are the params of notifications/resources/updated.
type ResourceUpdatedParams struct {
	URI  string `json:"uri"`
	Meta Meta   `json:"_meta,omitempty"`
}

// A Prompt is a prompt template as listed by prompts/list (2025-11-25
// server/prompts §Prompt).
type Prompt struct {
	Name        string            `json:"name"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Arguments   []*PromptArgument `json:"arguments,omitempty"`
	Icons       []Icon            `json:"icons,omitempty"`
	Meta        Meta              `json:"_meta,omitempty"`
	// Scopes are the OAuth scopes a prompts/get of this prompt needs (see
	// [Tool].Scopes). Not sent to clients.
	Scopes []string `json:"-"`
}

// A PromptArgument is an argument of a prompt.
type PromptArgument struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// ListPromptsResult is the result of prompts/list.
type ListPromptsResult struct {
	Prompts    []*Prompt `json:"prompts"`
	NextCursor string    `json:"nextCursor,omitempty"`
	CacheHints
}

// GetPromptParams are the params of prompts/get.
type GetPromptParams struct {
	Name           string            `json:"name"`
	Arguments      map[string]string `json:"arguments,omitempty"`
	Meta           *RequestMeta      `json:"_meta,omitempty"`
	InputResponses InputResponses    `json:"inputResponses,omitempty"`
	RequestState   string            `json:"requestState,omitempty"`
}

// GetPromptResult is the result of prompts/get. See [CallToolResult] for
// InputRequests and RequestState.
type GetPromptResult struct {
	Description string           `json:"description,omitempty"`
	Messages    []*PromptMessage `json:"messages"`
	CacheHints

	InputRequests InputRequests `json:"-"`
	RequestState  string        `json:"-"`
}

// A PromptMessage is one message of a prompt.
type PromptMessage struct {
	Role    Role    `json:"role"`
	Content Content `json:"content"`
}

// CompleteParams are the params of completion/complete (2025-11-25
// server/utilities/completion).
type CompleteParams struct {
	Ref      CompleteReference `json:"ref"`
	Argument CompleteArgument  `json:"argument"`
	Context  *CompleteContext  `json:"context,omitempty"`
	Meta     *RequestMeta      `json:"_meta,omitempty"`
}

// A CompleteReference names what is completed: Type "ref/prompt" with
// Name, or "ref/resource" with URI (a template).
type CompleteReference struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// CompleteArgument is the argument being completed and its value so far.
type CompleteArgument struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CompleteContext carries the values of arguments already resolved.
type CompleteContext struct {
	Arguments map[string]string `json:"arguments,omitempty"`
}

// CompleteResult is the result of completion/complete.
type CompleteResult struct {
	Completion CompletionResultDetails `json:"completion"`
	CacheHints
}

// CompletionResultDetails are the suggestions: at most 100 Values.
type CompletionResultDetails struct {
	Values  []string `json:"values"`
	Total   int      `json:"total,omitempty"`
	HasMore bool     `json:"hasMore,omitempty"`
}

// CreateMessageParams are the params of sampling/createMessage (2025-11-25
// client/sampling).
type CreateMessageParams struct {
	Messages         []*SamplingMessage `json:"messages"`
	ModelPreferences json.RawMessage    `json:"modelPreferences,omitempty"`
	SystemPrompt     string             `json:"systemPrompt,omitempty"`
	IncludeContext   string             `json:"includeContext,omitempty"`
	Temperature      *float64           `json:"temperature,omitempty"`
	MaxTokens        int64              `json:"maxTokens"`
	StopSequences    []string           `json:"stopSequences,omitempty"`
	Metadata         any                `json:"metadata,omitempty"`
	Tools            []*Tool            `json:"tools,omitempty"`
	ToolChoice       json.RawMessage    `json:"toolChoice,omitempty"`
	Meta             Meta               `json:"_meta,omitempty"`
}

// A SamplingMessage is one message of a sampling request.
type SamplingMessage struct {
	Role    Role    `json:"role"`
	Content Content `json:"content"`
}

// CreateMessageResult is the client's answer to sampling/createMessage.
// Content is the first content block; Contents holds all of them when the
// client sent an array (2025-11-25 sampling with tools).
type CreateMessageResult struct {
	Role       Role      `json:"role"`
	Content    Content   `json:"-"`
	Contents   []Content `json:"-"`
	Model      string    `json:"model"`
	StopReason string    `json:"stopReason,omitempty"`
	Meta       Meta      `json:"_meta,omitempty"`
}

// UnmarshalJSON accepts a single content block or an array of them.
func (r *CreateMessageResult) UnmarshalJSON(b []byte) error {
	var w struct {
		Role       Role            `json:"role"`
		Content    json.RawMessage `json:"content"`
		Model      string          `json:"model"`
		StopReason string          `json:"stopReason"`
		Meta       Meta            `json:"_meta"`
	}
	if err := jsonrpc.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = CreateMessageResult{Role: w.Role, Model: w.Model, StopReason: w.StopReason, Meta: w.Meta}
	if len(w.Content) > 0 && w.Content[0] == '[' {
		if err := jsonrpc.Unmarshal(w.Content, &r.Contents); err != nil {
			return err
		}
		if len(r.Contents) > 0 {
			r.Content = r.Contents[0]
		}
		return nil
	}
	if len(w.Content) > 0 {
		if err := jsonrpc.Unmarshal(w.Content, &r.Content); err != nil {
			return err
		}
		r.Contents = []Content{r.Content}
	}
	return nil
}

// MarshalJSON writes Content (or Contents when it has several blocks).
func (r *CreateMessageResult) MarshalJSON() ([]byte, error) {
	var content any = r.Content
	if len(r.Contents) > 1 {
		content = r.Contents
	}
	return jsonrpc.Marshal(struct {
		Role       Role   `json:"role"`
		Content    any    `json:"content"`
		Model      string `json:"model"`
		StopReason string `json:"stopReason,omitempty"`
		Meta       Meta   `json:"_meta,omitempty"`
	}{r.Role, content, r.Model, r.StopReason, r.Meta})
}

// ElicitParams are the params of elicitation/create (2025-11-25
// client/elicitation). Form mode (Mode "" or "form") needs Message and
// RequestedSchema, an object schema of primitive properties sent as given;
// URL mode needs Message, URL and ElicitationID.
type ElicitParams struct {
	Mode            string          `json:"mode,omitempty"`
	Message         string          `json:"message"`
	RequestedSchema json.RawMessage `json:"requestedSchema,omitempty"`
	URL             string          `json:"url,omitempty"`
	ElicitationID   string          `json:"elicitationId,omitempty"`
	Meta            Meta            `json:"_meta,omitempty"`
}

// ElicitResult is the client's answer to elicitation/create: Action is
// "accept" (with Content), "decline" or "cancel".
type ElicitResult struct {
	Action  string         `json:"action"`
	Content map[string]any `json:"content,omitempty"`
	Meta    Meta           `json:"_meta,omitempty"`
}

// ListRootsParams are the params of roots/list.
type ListRootsParams struct {
	Meta Meta `json:"_meta,omitempty"`
}

// ListRootsResult is the client's answer to roots/list.
type ListRootsResult struct {
	Roots []*Root `json:"roots"`
	Meta  Meta    `json:"_meta,omitempty"`
}

// A Root is a file:// URI the client exposes.
type Root struct {
	URI  string `json:"uri"`
	Name string `json:"name,omitempty"`
	Meta Meta   `json:"_meta,omitempty"`
}

// DiscoverResult is the result of server/discover (2026-07-28
// server/discover).
type DiscoverResult struct {
	SupportedVersions []string           `json:"supportedVersions"`
	Capabilities      ServerCapabilities `json:"capabilities"`
	Instructions      string             `json:"instructions,omitempty"`
	CacheHints
}

// SubscriptionFilter is what a subscriptions/listen stream carries
// (2026-07-28 basic/patterns/subscriptions).
type SubscriptionFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
}
