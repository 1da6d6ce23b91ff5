package mcp

import json "github.com/goccy/go-json"

// Implementation names a client or server (clientInfo, serverInfo).
type Implementation struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
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

// ServerCapabilities are what the server declares at initialize.
type ServerCapabilities struct {
	Logging *struct{}         `json:"logging,omitempty"`
	Tools   *ToolCapabilities `json:"tools,omitempty"`
}

// ToolCapabilities describe the tools capability.
type ToolCapabilities struct {
	ListChanged bool `json:"listChanged"`
}

// ClientCapabilities are the parts of the client's declared capabilities
// the server acts on. A nil member means "not declared".
type ClientCapabilities struct {
	Roots       *json.RawMessage `json:"roots,omitempty"`
	Sampling    *json.RawMessage `json:"sampling,omitempty"`
	Elicitation *json.RawMessage `json:"elicitation,omitempty"`
}

// A Tool is a tool definition as listed by tools/list (2025-11-25
// server/tools §Tool). InputSchema must be a JSON Schema object with
// "type":"object".
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
}

// ListToolsResult is the result of tools/list.
type ListToolsResult struct {
	Tools      []*Tool `json:"tools"`
	NextCursor string  `json:"nextCursor,omitempty"`
}

// CallToolParams are the params of tools/call.
type CallToolParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Meta      *RequestMeta    `json:"_meta,omitempty"`
}

// RequestMeta is the _meta member of request params.
type RequestMeta struct {
	// ProgressToken is the raw JSON token (a string or a number) to echo in
	// notifications/progress, with its original type.
	ProgressToken json.RawMessage `json:"progressToken,omitempty"`
}

// Content is one content block of a tool result. Only text content is
// built in; Type says which members are set.
type Content struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Data     string `json:"data,omitempty"`
	MIMEType string `json:"mimeType,omitempty"`
}

// TextContent returns a text content block.
func TextContent(text string) Content { return Content{Type: "text", Text: text} }

// CallToolResult is the result of tools/call. IsError marks a tool
// execution error (2025-11-25 server/tools §Error Handling), as opposed to a
// JSON-RPC protocol error.
type CallToolResult struct {
	Content           []Content `json:"content"`
	StructuredContent any       `json:"structuredContent,omitempty"`
	IsError           bool      `json:"isError,omitempty"`
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
