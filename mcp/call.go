package mcp

import (
	"context"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A CallToolRequest is a tools/call request as its [ToolHandler] sees it.
type CallToolRequest struct {
	Params  *CallToolParams
	Session *SessionState
	call    *Call
}

// cancelled reports whether ctx ended because the client cancelled the
// request (rather than the session ending).
func (r *CallToolRequest) cancelled(ctx context.Context) bool {
	return ctx.Err() != nil && r.Session.ctx.Err() == nil
}

// Progress sends notifications/progress for this request (2025-11-25
// basic/utilities/progress) when the client asked for progress with a
// progressToken; otherwise it does nothing. progress must increase with
// each call; total is 0 when unknown.
func (r *CallToolRequest) Progress(progress, total float64, message string) error {
	if r.Params.Meta == nil || len(r.Params.Meta.ProgressToken) == 0 {
		return nil
	}
	return r.notify("notifications/progress", &ProgressNotificationParams{
		ProgressToken: r.Params.Meta.ProgressToken,
		Progress:      progress,
		Total:         total,
		Message:       message,
	})
}

// Log sends notifications/message at level for this request when it passes
// the client's logging/setLevel filter (2025-11-25
// server/utilities/logging). data is any JSON-encodable value.
func (r *CallToolRequest) Log(level LoggingLevel, logger string, data any) error {
	if !r.Session.wants(level) {
		return nil
	}
	return r.notify("notifications/message", &LoggingMessageParams{Level: level, Logger: logger, Data: data})
}

func (r *CallToolRequest) notify(method string, params any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return r.call.Out.Send(jsonrpc.AppendNotification(nil, method, p))
}
