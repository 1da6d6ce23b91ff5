package mcp

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// An InputRequest is one thing a handler needs from the client before it
// can finish: a sampling/createMessage, elicitation/create or roots/list
// request, without a JSON-RPC id (2026-07-28 basic/patterns/mrtr
// §InputRequiredResult).
type InputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// InputRequests are a handler's input requests by key; the client answers
// each under the same key in InputResponses.
type InputRequests map[string]*InputRequest

// ElicitInput returns an elicitation/create input request.
func ElicitInput(p *ElicitParams) *InputRequest {
	return &InputRequest{Method: MethodElicitationCreate, Params: p}
}

// SamplingInput returns a sampling/createMessage input request.
func SamplingInput(p *CreateMessageParams) *InputRequest {
	return &InputRequest{Method: MethodSamplingCreateMessage, Params: p}
}

// RootsInput returns a roots/list input request.
func RootsInput() *InputRequest {
	return &InputRequest{Method: MethodRootsList, Params: &ListRootsParams{}}
}

// InputResponses are the client's answers to input requests, by key, as
// raw JSON. Their content is client-controlled: the accessors validate the
// shape and report false for a missing or malformed answer, which a
// handler should treat as "still missing" and ask again (2026-07-28
// basic/patterns/mrtr §Missing Input Responses).
type InputResponses map[string]json.RawMessage

// Elicit returns the elicitation result under key: an object with a
// valid action.
func (r InputResponses) Elicit(key string) (*ElicitResult, bool) {
	raw, ok := r[key]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var res ElicitResult
	if jsonrpc.Unmarshal(raw, &res) != nil {
		return nil, false
	}
	switch res.Action {
	case "accept", "decline", "cancel":
		return &res, true
	}
	return nil, false
}

// Accepted returns the content of an accepted elicitation under key.
func (r InputResponses) Accepted(key string) (map[string]any, bool) {
	res, ok := r.Elicit(key)
	if !ok || res.Action != "accept" {
		return nil, false
	}
	if res.Content == nil {
		res.Content = map[string]any{}
	}
	return res.Content, true
}

// CreateMessage returns the sampling result under key: an object with a
// role and content.
func (r InputResponses) CreateMessage(key string) (*CreateMessageResult, bool) {
	raw, ok := r[key]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var res CreateMessageResult
	if jsonrpc.Unmarshal(raw, &res) != nil || res.Role == "" || res.Content.Type == "" {
		return nil, false
	}
	return &res, true
}

// ListRoots returns the roots/list result under key: an object with a
// roots array.
func (r InputResponses) ListRoots(key string) (*ListRootsResult, bool) {
	raw, ok := r[key]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var res ListRootsResult
	if jsonrpc.Unmarshal(raw, &res) != nil || res.Roots == nil {
		return nil, false
	}
	return &res, true
}

// requiredFor returns the client capabilities that input requests need and
// caps lacks, or nil when caps covers them all. The protocol layer never
// sends an input request the client did not declare (2026-07-28
// basic/patterns/mrtr: "Servers MUST NOT send an inputRequests that the
// client has not declared support for").
func requiredFor(reqs InputRequests, caps *ClientCapabilities) map[string]any {
	var missing map[string]any
	need := func(name string, v any) {
		if missing == nil {
			missing = make(map[string]any)
		}
		missing[name] = v
	}
	for _, ir := range reqs {
		switch ir.Method {
		case MethodElicitationCreate:
			if p, ok := ir.Params.(*ElicitParams); ok && p.Mode == "url" {
				if !caps.CanElicitURL() {
					need("elicitation", map[string]any{"url": struct{}{}})
				}
			} else if !caps.CanElicitForm() {
				need("elicitation", map[string]any{"form": struct{}{}})
			}
		case MethodSamplingCreateMessage:
			if p, ok := ir.Params.(*CreateMessageParams); ok && len(p.Tools) > 0 {
				if !caps.CanSampleWithTools() {
					need("sampling", map[string]any{"tools": struct{}{}})
				}
			} else if !caps.CanSample() {
				need("sampling", struct{}{})
			}
		case MethodRootsList:
			if !caps.CanListRoots() {
				need("roots", struct{}{})
			}
		}
	}
	return missing
}

// MissingCapabilityError returns MissingRequiredClientCapabilityError
// (2026-07-28 basic §Error Codes: "If processing a request requires a
// capability the client did not include … the server MUST return" it),
// with data.requiredCapabilities, a ClientCapabilities object such as
// {"sampling": {}}. A handler returns it for a capability it cannot do
// without; at 2026-07-28 it is sent with HTTP 400.
func MissingCapabilityError(msg string, required map[string]any) *jsonrpc.Error {
	data, _ := jsonrpc.Marshal(map[string]any{"requiredCapabilities": required})
	return &jsonrpc.Error{Code: CodeMissingRequiredClientCapability, Message: msg, Data: data}
}

// validInputRequests reports whether every input request has a method the
// protocol defines.
func validInputRequests(reqs InputRequests) bool {
	for k, ir := range reqs {
		if k == "" || ir == nil {
			return false
		}
		switch ir.Method {
		case MethodElicitationCreate, MethodSamplingCreateMessage, MethodRootsList:
		default:
			return false
		}
	}
	return true
}
