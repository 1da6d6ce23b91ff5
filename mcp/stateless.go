package mcp

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// SupportedVersions are the revisions the [Server] serves, newest first:
// 2026-07-28 statelessly, the others with sessions. server/discover lists
// them, and so does an UnsupportedProtocolVersionError.
var SupportedVersions = []string{Version20260728, Version20251125, Version20250618, Version20250326}

// A StatelessCall is one 2026-07-28 request as the transport hands it to
// [Server.HandleStateless] (2026-07-28 basic/transports: one POST, one
// request, no session).
type StatelessCall struct {
	Method string
	// ID is the raw ID; as for [Call].ID, it must not be modified while
	// HandleStateless runs.
	ID json.RawMessage
	// Params are the raw params; as for [Call].Params, they must not be
	// modified once handed over.
	Params json.RawMessage
	// Headers are the request's MCP headers by lower-case name
	// ("mcp-protocol-version", "mcp-method", "mcp-name", "mcp-param-…"),
	// values as received. HandleStateless checks them against the body.
	Headers map[string]string
	// Out carries what is sent before the response: progress and log
	// notifications, and a subscriptions/listen stream's notifications.
	// Required.
	Out Outbound
	// Context ends when the client closes the response stream, which
	// cancels the request (2026-07-28 basic/transports: "Closing the SSE
	// response stream MUST be treated by the server as cancellation"), or
	// when the server stops.
	Context context.Context
	// Draining is closed when the server begins to shut down: an open
	// subscriptions/listen stream then ends with its result. May be nil.
	Draining <-chan struct{}
	// Principal is who sent the request (the verified access token's
	// principal), or nil when the transport does not authenticate. The
	// request's state carries it, and a sealed requestState is bound to
	// it: only the same principal can continue the request.
	Principal *Principal
}

// StatelessBackend is implemented by a [Backend] that also serves
// 2026-07-28 (stateless) requests; [*Server] does.
type StatelessBackend interface {
	// HandleStateless answers a request; see [Server.HandleStateless].
	HandleStateless(c *StatelessCall) (result []byte, err *jsonrpc.Error)
	// InlineStateless reports whether a stateless request for method is
	// answered at once and sends nothing first.
	InlineStateless(method string) bool
}

var _ StatelessBackend = (*Server)(nil)

// HandleStateless answers one 2026-07-28 request. It checks, in this
// order, and answers the first failure with the error in parentheses (the
// transport maps codes to HTTP statuses: -32601 is 404; -32602, -32020,
// -32021 and -32022 are 400):
//
//  1. the method exists at 2026-07-28 and its capability is declared
//     (-32601; initialize, ping, logging/setLevel and resources/subscribe
//     are gone in this revision);
//  2. params._meta carries protocolVersion and clientCapabilities
//     (-32602; basic §Request Metadata);
//  3. the MCP-Protocol-Version header equals the _meta version (-32020);
//  4. the version is one the server serves statelessly (-32022, with
//     data.supported and data.requested);
//  5. Mcp-Method, Mcp-Name and, for tools/call, the Mcp-Param-* headers
//     of the tool's x-mcp-header arguments match the body (-32020;
//     basic/transports §Server Validation);
//
// then dispatches it. A handler that needs input gets an
// InputRequiredResult with sealed requestState; results carry resultType,
// serverInfo and, where required, ttlMs and cacheScope.
func (s *Server) HandleStateless(c *StatelessCall) ([]byte, *jsonrpc.Error) {
	m := s.method(c.Method, eraStateless)
	if m == nil {
		return nil, methodNotFound(c.Method)
	}
	meta, jerr := parseRequestMeta(c.Params)
	if jerr != nil {
		return nil, jerr
	}
	header, ok := c.Headers["mcp-protocol-version"]
	header = trimOWS(header)
	if !ok || header == "" {
		return nil, headerMismatch("the MCP-Protocol-Version header is required")
	}
	if header != meta.version {
		return nil, headerMismatch(fmt.Sprintf("MCP-Protocol-Version %q does not match _meta protocolVersion %q", header, meta.version))
	}
	if meta.version != Version20260728 {
		return nil, UnsupportedVersionError(meta.version)
	}
	if jerr := s.checkHeaders(c, m.nameParam); jerr != nil {
		return nil, jerr
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	st := newStatelessState(ctx, &SessionRecord{
		ProtocolVersion:    meta.version,
		ClientInfo:         meta.info,
		ClientCapabilities: meta.caps,
		LogLevel:           meta.level,
		Principal:          c.Principal,
	})
	defer st.Close()
	return m.handle(s, &Call{Session: st, Method: c.Method, ID: c.ID, Params: c.Params, Out: c.Out, Principal: c.Principal, draining: c.Draining, headers: c.Headers})
}

// UnsupportedVersionError returns UnsupportedProtocolVersionError for a
// client that asked for requested (2026-07-28 basic/versioning), listing
// [SupportedVersions].
func UnsupportedVersionError(requested string) *jsonrpc.Error {
	data, _ := jsonrpc.Marshal(map[string]any{"supported": SupportedVersions, "requested": requested})
	msg := fmt.Sprintf("Unsupported protocol version %q: this server serves 2026-07-28 statelessly, and 2025-11-25, 2025-06-18 and 2025-03-26 with sessions (initialize)", requested)
	return &jsonrpc.Error{Code: CodeUnsupportedProtocolVersion, Message: msg, Data: data}
}

func headerMismatch(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(CodeHeaderMismatch, "Header mismatch: "+msg)
}

// requestMeta is what a 2026-07-28 request's _meta says of the client.
type requestMeta struct {
	version string
	caps    ClientCapabilities
	info    *Implementation
	level   LoggingLevel
}

// parseRequestMeta reads params._meta (2026-07-28 basic §Request
// Metadata): protocolVersion and clientCapabilities are required,
// clientInfo and logLevel optional.
func parseRequestMeta(params json.RawMessage) (*requestMeta, *jsonrpc.Error) {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if len(params) == 0 || params[0] != '{' || jsonrpc.Unmarshal(params, &p) != nil || p.Meta == nil {
		return nil, invalidParams("params._meta is required, with " + MetaProtocolVersion + " and " + MetaClientCapabilities)
	}
	var m requestMeta
	if raw, ok := p.Meta[MetaProtocolVersion]; !ok || jsonrpc.Unmarshal(raw, &m.version) != nil || m.version == "" {
		return nil, invalidParams("params._meta[\"" + MetaProtocolVersion + "\"] must be a protocol version string")
	}
	raw, ok := p.Meta[MetaClientCapabilities]
	if !ok || len(raw) == 0 || raw[0] != '{' || jsonrpc.Unmarshal(raw, &m.caps) != nil {
		return nil, invalidParams("params._meta[\"" + MetaClientCapabilities + "\"] must be an object")
	}
	if raw, ok := p.Meta[MetaClientInfo]; ok {
		var info Implementation
		if len(raw) == 0 || raw[0] != '{' || jsonrpc.Unmarshal(raw, &info) != nil || info.Name == "" {
			return nil, invalidParams("params._meta[\"" + MetaClientInfo + "\"] must be an object with a name and a version")
		}
		m.info = &info
	}
	if raw, ok := p.Meta[MetaLogLevel]; ok {
		if jsonrpc.Unmarshal(raw, &m.level) != nil || m.level.severity() == 0 {
			return nil, invalidParams("params._meta[\"" + MetaLogLevel + "\"] must be a logging level")
		}
	}
	return &m, nil
}

// trimOWS trims the optional whitespace of RFC 9110 (spaces and tabs)
// around a header value.
func trimOWS(v string) string { return strings.Trim(v, " \t") }

// checkHeaders checks Mcp-Method, Mcp-Name and Mcp-Param-* against the
// body (2026-07-28 basic/transports §Standard Request Headers, §Custom
// Headers); field is the params member Mcp-Name mirrors, "" for a method
// without Mcp-Name. Values are compared case-sensitively after trimming
// spaces and tabs and decoding =?base64?…?=.
func (s *Server) checkHeaders(c *StatelessCall, field string) *jsonrpc.Error {
	method, ok := c.Headers["mcp-method"]
	if !ok {
		return headerMismatch("the Mcp-Method header is required")
	}
	if trimOWS(method) != c.Method {
		return headerMismatch(fmt.Sprintf("Mcp-Method %q does not match the body's method %q", trimOWS(method), c.Method))
	}
	if field == "" {
		return nil
	}
	var p map[string]json.RawMessage
	_ = jsonrpc.Unmarshal(c.Params, &p) // parseRequestMeta checked it is an object
	var want string
	if raw, ok := p[field]; !ok || jsonrpc.Unmarshal(raw, &want) != nil {
		return invalidParams(fmt.Sprintf("%s needs params.%s", c.Method, field))
	}
	got, ok := c.Headers["mcp-name"]
	if !ok {
		return headerMismatch("the Mcp-Name header is required for " + c.Method)
	}
	name, err := decodeHeaderValue(got)
	if err != nil {
		return headerMismatch("Mcp-Name: " + err.Error())
	}
	if name != want {
		return headerMismatch(fmt.Sprintf("Mcp-Name %q does not match params.%s %q", name, field, want))
	}
	if c.Method != MethodToolsCall {
		return nil
	}
	// x-mcp-header annotations of the tool.
	s.mu.RLock()
	t := s.tools[want]
	s.mu.RUnlock()
	if t == nil || len(t.headers) == 0 {
		return nil
	}
	return checkParamHeaders(t.headers, p["arguments"], c.Headers)
}

// decodeHeaderValue trims a header value and decodes the =?base64?…?=
// form (2026-07-28 basic/transports §Value Encoding). A plain value must
// be visible ASCII, spaces and tabs; a value with only one of the markers
// is taken literally.
func decodeHeaderValue(v string) (string, error) {
	v = trimOWS(v)
	const prefix, suffix = "=?base64?", "?="
	if len(v) >= len(prefix)+len(suffix) && strings.HasPrefix(v, prefix) && strings.HasSuffix(v, suffix) {
		b, err := base64.StdEncoding.Strict().DecodeString(v[len(prefix) : len(v)-len(suffix)])
		if err != nil {
			return "", fmt.Errorf("invalid base64 in %q", v)
		}
		return string(b), nil
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return "", fmt.Errorf("invalid character %q", c)
		}
	}
	return v, nil
}

// A paramHeader is an x-mcp-header annotation of a tool's input schema:
// the argument at path is mirrored in the header Mcp-Param-<name>.
type paramHeader struct {
	name  string   // as annotated
	lower string   // "mcp-param-" + lower-case name
	path  []string // property names from the schema root
	typ   string   // "string", "integer" or "boolean"
}

// paramHeaders finds the x-mcp-header annotations of an input schema
// (2026-07-28 basic/transports §Custom Headers): on properties reached by
// a chain of "properties" keys, each a non-empty RFC 9110 token, unique
// ignoring case, on a string, integer or boolean property.
func paramHeaders(schema json.RawMessage) ([]paramHeader, error) {
	var out []paramHeader
	seen := map[string]bool{}
	var walk func(raw json.RawMessage, path []string) error
	walk = func(raw json.RawMessage, path []string) error {
		var node struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if jsonrpc.Unmarshal(raw, &node) != nil {
			return nil
		}
		for name, prop := range node.Properties {
			var p struct {
				Type   any     `json:"type"`
				Header *string `json:"x-mcp-header"`
			}
			if jsonrpc.Unmarshal(prop, &p) != nil {
				continue
			}
			sub := append(append([]string(nil), path...), name)
			if p.Header != nil {
				h := *p.Header
				if !isToken(h) {
					return fmt.Errorf("x-mcp-header %q of %q is not an HTTP token", h, strings.Join(sub, "."))
				}
				typ, _ := p.Type.(string)
				if typ != "string" && typ != "integer" && typ != "boolean" {
					return fmt.Errorf("x-mcp-header %q is on %q of type %v; only string, integer and boolean are allowed", h, strings.Join(sub, "."), p.Type)
				}
				l := "mcp-param-" + strings.ToLower(h)
				if seen[l] {
					return fmt.Errorf("x-mcp-header %q is used twice", h)
				}
				seen[l] = true
				out = append(out, paramHeader{name: h, lower: l, path: sub, typ: typ})
			}
			if err := walk(prop, sub); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(schema, nil)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// checkParamHeaders compares each annotated argument with its
// Mcp-Param-* header: a value in the body needs its header, equal after
// decoding (integers as numbers); an absent or null argument needs none.
func checkParamHeaders(hs []paramHeader, args json.RawMessage, headers map[string]string) *jsonrpc.Error {
	for _, h := range hs {
		raw := lookupPath(args, h.path)
		hv, present := headers[h.lower]
		if raw == nil {
			if present {
				return headerMismatch(fmt.Sprintf("Mcp-Param-%s is set but the argument %q is absent", h.name, strings.Join(h.path, ".")))
			}
			continue
		}
		if !present {
			return headerMismatch(fmt.Sprintf("the Mcp-Param-%s header is required: the argument %q is set", h.name, strings.Join(h.path, ".")))
		}
		v, err := decodeHeaderValue(hv)
		if err != nil {
			return headerMismatch(fmt.Sprintf("Mcp-Param-%s: %v", h.name, err))
		}
		if !headerMatches(h.typ, v, raw) {
			return headerMismatch(fmt.Sprintf("Mcp-Param-%s %q does not match the argument %q", h.name, v, strings.Join(h.path, ".")))
		}
	}
	return nil
}

// lookupPath returns the raw value at path in an arguments object, or nil
// when it is absent or null.
func lookupPath(raw json.RawMessage, path []string) json.RawMessage {
	for _, k := range path {
		var m map[string]json.RawMessage
		if len(raw) == 0 || raw[0] != '{' || jsonrpc.Unmarshal(raw, &m) != nil {
			return nil
		}
		raw = m[k]
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// headerMatches compares a decoded header value with a body value of the
// annotated type.
func headerMatches(typ, v string, raw json.RawMessage) bool {
	switch typ {
	case "string":
		var s string
		return jsonrpc.Unmarshal(raw, &s) == nil && s == v
	case "boolean":
		var b bool
		return jsonrpc.Unmarshal(raw, &b) == nil && strconv.FormatBool(b) == v
	case "integer":
		var n float64
		if jsonrpc.Unmarshal(raw, &n) != nil {
			return false
		}
		h, err := strconv.ParseFloat(v, 64)
		return err == nil && !math.IsInf(h, 0) && h == n
	}
	return false
}

// discover answers server/discover (2026-07-28 server/discover).
func (s *Server) discover(c *Call) ([]byte, *jsonrpc.Error) {
	caps := s.capabilities()
	if s.tasks != nil {
		caps.Extensions = map[string]any{TasksExtension: map[string]any{}}
	}
	return encode(&DiscoverResult{
		SupportedVersions: SupportedVersions,
		Capabilities:      caps,
		Instructions:      s.opts.Instructions,
		CacheHints:        s.hints(c.Session, true),
	})
}

// listen serves subscriptions/listen (2026-07-28
// basic/patterns/subscriptions): it acknowledges the agreed subset of the
// client's filter as the stream's first message, then sends the matching
// notifications, each with the subscription ID (the request's ID), until
// the client closes the stream (no response) or the server drains (a
// complete result ends the stream).
func (s *Server) listen(c *Call) ([]byte, *jsonrpc.Error) {
	var p struct {
		Notifications *SubscriptionFilter `json:"notifications"`
	}
	if jsonrpc.Unmarshal(c.Params, &p) != nil || p.Notifications == nil {
		return nil, invalidParams("subscriptions/listen needs params.notifications")
	}
	f := *p.Notifications
	agreed := SubscriptionFilter{
		ToolsListChanged:     f.ToolsListChanged && s.has(kindTools),
		PromptsListChanged:   f.PromptsListChanged && s.has(kindPrompts),
		ResourcesListChanged: f.ResourcesListChanged && s.has(kindResources),
	}
	if s.has(kindResources) {
		agreed.ResourceSubscriptions = f.ResourceSubscriptions
	}
	if agreed.ResourceSubscriptions == nil {
		agreed.ResourceSubscriptions = []string{}
	}
	l := &listener{id: c.ID, filter: agreed, out: c.Out}
	ack, _ := jsonrpc.Marshal(map[string]any{
		"notifications": agreed,
		"_meta":         map[string]any{MetaSubscriptionID: c.ID},
	})
	// The acknowledgement goes first and the listener is registered under
	// the same lock, so that no notification can overtake it.
	s.smu.Lock()
	err := c.Out.Send(jsonrpc.AppendNotification(nil, NotificationSubscriptionsAcknowledged, ack))
	if err == nil {
		s.listeners[l] = struct{}{}
	}
	s.smu.Unlock()
	if err != nil {
		return nil, ErrNoResponse
	}
	defer func() {
		s.smu.Lock()
		delete(s.listeners, l)
		s.smu.Unlock()
	}()
	select {
	case <-c.Session.ctx.Done():
		return nil, ErrNoResponse
	case <-c.draining:
	}
	return encode(map[string]any{
		"resultType": ResultTypeComplete,
		"_meta":      map[string]any{MetaSubscriptionID: c.ID, MetaServerInfo: s.impl},
	})
}
