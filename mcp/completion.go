package mcp

// Completion (2025-11-25 server/utilities/completion).

import (
	"context"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A CompletionHandler suggests values for a prompt or resource template
// argument (2025-11-25 server/utilities/completion).
type CompletionHandler func(ctx context.Context, req *CompleteRequest) (*CompleteResult, error)

func (s *Server) complete(c *Call) ([]byte, *jsonrpc.Error) {
	var p CompleteParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.Ref.Type == "" {
		return nil, invalidParams("completion/complete needs params with a ref and an argument")
	}
	switch p.Ref.Type {
	case "ref/prompt", "ref/resource":
	default:
		return nil, invalidParams("ref.type must be ref/prompt or ref/resource")
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &CompleteRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	res, err := safeCall(func() (*CompleteResult, error) { return s.opts.CompletionHandler(ctx, req) })
	if req.cancelled(ctx) {
		return nil, ErrNoResponse
	}
	if err != nil {
		return nil, s.eraError(c.Session, jsonrpc.AsError(err))
	}
	if res == nil {
		res = &CompleteResult{}
	}
	if res.Completion.Values == nil {
		res.Completion.Values = []string{}
	}
	if len(res.Completion.Values) > 100 {
		res.Completion.Values = res.Completion.Values[:100]
		res.Completion.HasMore = true
	}
	res.CacheHints = s.withHints(c.Session, res.CacheHints, false)
	return encode(res)
}
