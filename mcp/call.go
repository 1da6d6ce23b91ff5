package mcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A CallToolRequest is a tools/call request as its [ToolHandler] sees it.
// The embedded [Request] sends progress, log messages and requests to the
// client.
type CallToolRequest struct {
	Params *CallToolParams
	Request
}

// A GetPromptRequest is a prompts/get request as its [PromptHandler] sees
// it.
type GetPromptRequest struct {
	Params *GetPromptParams
	Request
}

// A ReadResourceRequest is a resources/read request as its
// [ResourceHandler] sees it.
type ReadResourceRequest struct {
	Params *ReadResourceParams
	Request
}

// A CompleteRequest is a completion/complete request as the
// [CompletionHandler] sees it.
type CompleteRequest struct {
	Params *CompleteParams
	Request
}

// Request is what every handler's request carries: the client's state and
// the way back to it while the request runs.
type Request struct {
	// Session is the client's session, or for a 2026-07-28 request the
	// request's own state ([SessionState.Stateless]).
	Session *SessionState

	srv           *Server
	call          *Call
	progressToken json.RawMessage
	task          *task // set when the call may run as a task
	inline        bool  // a call of a Tool.Inline tool: it cannot ask the client
}

// ClientCapabilities returns the capabilities the client declared (at
// initialize, or in this request's _meta at 2026-07-28).
func (r *Request) ClientCapabilities() *ClientCapabilities { return &r.Session.ClientCapabilities }

// cancelled reports whether ctx ended because the client cancelled the
// request (rather than the session ending).
func (r *Request) cancelled(ctx context.Context) bool {
	return ctx.Err() != nil && r.Session.ctx.Err() == nil
}

// Progress sends notifications/progress for this request (2025-11-25
// basic/utilities/progress) when the client asked for progress with a
// progressToken; otherwise it does nothing. progress must increase with
// each call; total is 0 when unknown.
func (r *Request) Progress(progress, total float64, message string) error {
	if len(r.progressToken) == 0 {
		return nil
	}
	return r.notify(NotificationProgress, &ProgressNotificationParams{
		ProgressToken: r.progressToken,
		Progress:      progress,
		Total:         total,
		Message:       message,
	})
}

// Log sends notifications/message at level for this request when it passes
// the client's logging/setLevel filter (2025-11-25
// server/utilities/logging), or at 2026-07-28 the request's
// io.modelcontextprotocol/logLevel (none: nothing is sent). data is any
// JSON-encodable value.
func (r *Request) Log(level LoggingLevel, logger string, data any) error {
	if !r.Session.wants(level) {
		return nil
	}
	return r.notify(NotificationMessage, &LoggingMessageParams{Level: level, Logger: logger, Data: data})
}

func (r *Request) notify(method string, params any) error {
	p, err := jsonrpc.Marshal(params)
	if err != nil {
		return err
	}
	return r.outbound().Send(jsonrpc.AppendNotification(nil, method, p))
}

// outbound is where this request's messages go: its own stream, or the
// session's GET stream when it has none.
func (r *Request) outbound() Outbound {
	if r.call != nil && r.call.Out != nil {
		return r.call.Out
	}
	return sessionOutbound{r.Session}
}

// CloseSSEStream closes the HTTP connection that carries this request's
// SSE stream without ending the stream (2025-11-25 basic/transports
// §Sending Messages to the Server, item 6: the server "MAY close the
// connection (without terminating the SSE stream)"; SEP-1699). What the
// handler sends next, and its response, wait in the stream's event log
// until the client resumes with GET and Last-Event-ID, after the retry
// delay of the priming event.
//
// It only acts for sessions at 2025-11-25 or later (older clients get no
// priming event, so they would have no event ID to resume from) and when
// the request is answered as an SSE stream (the call is switched to SSE if
// it has not sent anything yet). It reports whether the connection was
// closed.
func (r *Request) CloseSSEStream() bool {
	if r.call == nil || !AtLeast(r.Session.ProtocolVersion, Version20251125) {
		return false
	}
	if c, ok := r.call.Out.(StreamCloser); ok {
		return c.CloseStream()
	}
	return false
}

type sessionOutbound struct{ st *SessionState }

func (o sessionOutbound) Send(msg []byte) error { return o.st.Send(msg) }

// ErrStateless is returned by the server-to-client request methods for a
// 2026-07-28 request: that revision has none (basic/transports: "The
// server MUST NOT send independent JSON-RPC requests"). Return
// InputRequests from the handler instead; the client answers them in a
// new request.
var ErrStateless = errors.New("mcp: 2026-07-28 requests cannot send requests to the client; return InputRequests instead")

// ErrInlineTool is returned by the server-to-client request methods in
// a call of a [Tool.Inline] tool: the call runs on the HTTP request's
// goroutine, and nothing would carry the request to the client before
// the tool returns.
var ErrInlineTool = errors.New("mcp: an inline tool cannot send requests to the client (Tool.Inline)")

// Elicit asks the client for input with elicitation/create (2025-11-25
// client/elicitation), on this request's stream, and waits for the answer
// for at most ServerOptions.ClientRequestTimeout. It fails with a
// MissingRequiredClientCapability error when the client did not declare
// the elicitation mode p needs.
func (r *Request) Elicit(ctx context.Context, p *ElicitParams) (*ElicitResult, error) {
	var res ElicitResult
	if err := r.ask(ctx, MethodElicitationCreate, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CreateMessage asks the client to sample a language model with
// sampling/createMessage (2025-11-25 client/sampling), as [Request.Elicit]
// does.
func (r *Request) CreateMessage(ctx context.Context, p *CreateMessageParams) (*CreateMessageResult, error) {
	var res CreateMessageResult
	if err := r.ask(ctx, MethodSamplingCreateMessage, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListRoots asks the client for its roots with roots/list (2025-11-25
// client/roots), as [Request.Elicit] does.
func (r *Request) ListRoots(ctx context.Context) (*ListRootsResult, error) {
	var res ListRootsResult
	if err := r.ask(ctx, MethodRootsList, &ListRootsParams{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ask sends a request to the client and decodes its answer: on the
// request's stream in a session; as an input request of the task when the
// call runs as a task (the client answers with tasks/update).
func (r *Request) ask(ctx context.Context, method string, params, result any) error {
	if r.inline && r.task == nil {
		return ErrInlineTool
	}
	if r.task == nil {
		return r.Session.call(ctx, r.outbound(), r.srv.clientTimeout(), method, params, result)
	}
	if err := r.Session.mayAsk(method, params); err != nil {
		return err
	}
	raw, err := r.task.askOne(ctx, method, params)
	if err != nil {
		return err
	}
	if err := jsonrpc.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("mcp: %s: the client's answer: %w", method, err)
	}
	return nil
}

// ErrClientTimeout is returned when the client did not answer a request
// within ServerOptions.ClientRequestTimeout.
var ErrClientTimeout = errors.New("mcp: the client did not answer in time")

// call sends a request to the client on out and decodes its answer into
// result. It checks the client's capabilities first, and on timeout or
// cancellation tells the client with notifications/cancelled.
func (st *SessionState) call(ctx context.Context, out Outbound, timeout time.Duration, method string, params, result any) error {
	if st.stateless {
		return ErrStateless
	}
	if err := st.mayAsk(method, params); err != nil {
		return err
	}
	p, err := jsonrpc.Marshal(params)
	if err != nil {
		return err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	id, ch := st.newRequest()
	if err := out.Send(jsonrpc.AppendRequest(nil, id, method, p)); err != nil {
		st.forget(id)
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if err := jsonrpc.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("mcp: %s: the client's result: %w", method, err)
		}
		return nil
	case <-ctx.Done():
		st.forget(id)
		reason := "the request was cancelled"
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			reason, err = "timed out", ErrClientTimeout
		}
		if st.ctx.Err() == nil {
			cp, _ := jsonrpc.Marshal(map[string]any{"requestId": json.RawMessage(id), "reason": reason})
			_ = out.Send(jsonrpc.AppendNotification(nil, NotificationCancelled, cp))
		}
		return err
	case <-st.ctx.Done():
		st.forget(id)
		return ErrSessionEnded
	}
}

// mayAsk checks that the client declared what a request to it needs, and
// that its revision has the request at all.
func (st *SessionState) mayAsk(method string, params any) error {
	caps := &st.ClientCapabilities
	switch method {
	case MethodElicitationCreate:
		if p, ok := params.(*ElicitParams); ok && p.Mode == "url" {
			if !caps.CanElicitURL() || !AtLeast(st.ProtocolVersion, Version20251125) {
				return MissingCapabilityError("the client did not declare URL-mode elicitation", map[string]any{"elicitation": map[string]any{"url": struct{}{}}})
			}
			return nil
		}
		if !caps.CanElicitForm() || !AtLeast(st.ProtocolVersion, Version20250618) {
			return MissingCapabilityError("the client did not declare the elicitation capability", map[string]any{"elicitation": struct{}{}})
		}
	case MethodSamplingCreateMessage:
		if p, ok := params.(*CreateMessageParams); ok && len(p.Tools) > 0 && !caps.CanSampleWithTools() {
			return MissingCapabilityError("the client did not declare sampling with tools", map[string]any{"sampling": map[string]any{"tools": struct{}{}}})
		}
		if !caps.CanSample() {
			return MissingCapabilityError("the client did not declare the sampling capability", map[string]any{"sampling": struct{}{}})
		}
	case MethodRootsList:
		if !caps.CanListRoots() {
			return MissingCapabilityError("the client did not declare the roots capability", map[string]any{"roots": struct{}{}})
		}
	}
	return nil
}

// Elicit asks the client for input with elicitation/create on the
// session's GET stream: a request related to no request of the client
// (2025-11-25 basic/transports §Listening for Messages from the Server).
// It waits for the answer for at most ServerOptions.ClientRequestTimeout
// (sessions made by [NewSessionState] for another Backend: until ctx
// ends), and fails with a MissingRequiredClientCapability error when the
// client did not declare elicitation, or [ErrStateless] for a 2026-07-28
// request's state. Inside a handler, use [Request.Elicit].
func (st *SessionState) Elicit(ctx context.Context, p *ElicitParams) (*ElicitResult, error) {
	var res ElicitResult
	if err := st.call(ctx, sessionOutbound{st}, st.requestTimeout, MethodElicitationCreate, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CreateMessage asks the client to sample a language model on the
// session's GET stream, as [SessionState.Elicit] does.
func (st *SessionState) CreateMessage(ctx context.Context, p *CreateMessageParams) (*CreateMessageResult, error) {
	var res CreateMessageResult
	if err := st.call(ctx, sessionOutbound{st}, st.requestTimeout, MethodSamplingCreateMessage, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListRoots asks the client for its roots on the session's GET stream, as
// [SessionState.Elicit] does; for instance after
// notifications/roots/list_changed.
func (st *SessionState) ListRoots(ctx context.Context) (*ListRootsResult, error) {
	var res ListRootsResult
	if err := st.call(ctx, sessionOutbound{st}, st.requestTimeout, MethodRootsList, &ListRootsParams{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Log sends notifications/message on the session's GET stream when level
// passes the client's logging/setLevel filter (2025-11-25
// server/utilities/logging). data is any JSON-encodable value.
func (st *SessionState) Log(level LoggingLevel, logger string, data any) error {
	if !st.wants(level) {
		return nil
	}
	p, err := jsonrpc.Marshal(&LoggingMessageParams{Level: level, Logger: logger, Data: data})
	if err != nil {
		return err
	}
	return st.Send(jsonrpc.AppendNotification(nil, NotificationMessage, p))
}
