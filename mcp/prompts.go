package mcp

// Prompts (2025-11-25 server/prompts): registration, prompts/list and prompts/get.

import (
	"context"
	"fmt"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A PromptHandler renders a prompt (2025-11-25 server/prompts). Errors are
// sent as JSON-RPC errors (an error that is not a *jsonrpc.Error as an
// internal error).
type PromptHandler func(ctx context.Context, req *GetPromptRequest) (*GetPromptResult, error)

type serverPrompt struct {
	prompt  *Prompt
	handler PromptHandler
}

// AddPrompt adds p, or replaces the prompt of the same name, and tells the
// clients that listen (notifications/prompts/list_changed). It panics if p
// has no name.
func (s *Server) AddPrompt(p *Prompt, h PromptHandler) {
	if p.Name == "" || h == nil {
		panic("mcp: AddPrompt needs a prompt name and a handler")
	}
	s.mu.Lock()
	s.prompts[p.Name] = &serverPrompt{prompt: p, handler: h}
	s.noteScopes(p.Scopes)
	s.hasProm = true
	s.mu.Unlock()
	s.listChanged(kindPrompts)
}

// RemovePrompts removes the named prompts and tells the clients that
// listen.
func (s *Server) RemovePrompts(names ...string) {
	s.mu.Lock()
	for _, n := range names {
		delete(s.prompts, n)
	}
	s.mu.Unlock()
	s.listChanged(kindPrompts)
}

// listPrompts answers prompts/list: a page of the prompts by name (see
// pagination.go; 2025-11-25 server/utilities/pagination).
func (s *Server) listPrompts(c *Call) ([]byte, *jsonrpc.Error) {
	at, jerr := listCursor(listPrompts, c.Params)
	if jerr != nil {
		return nil, jerr
	}
	s.mu.RLock()
	prompts := make([]*Prompt, 0, len(s.prompts))
	for _, p := range s.prompts {
		prompts = append(prompts, p.prompt)
	}
	s.mu.RUnlock()
	res := ListPromptsResult{CacheHints: s.hints(c.Session, true)}
	res.Prompts, res.NextCursor = page(s, listPrompts, prompts, func(p *Prompt) string { return p.Name }, at)
	return encode(res)
}

func (s *Server) getPrompt(c *Call) ([]byte, *jsonrpc.Error) {
	var p GetPromptParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.Name == "" {
		return nil, invalidParams("prompts/get needs params with a prompt name, and arguments (if any) an object of strings")
	}
	s.mu.RLock()
	sp := s.prompts[p.Name]
	s.mu.RUnlock()
	if sp == nil {
		return nil, invalidParams("unknown prompt: " + p.Name)
	}
	for _, a := range sp.prompt.Arguments {
		if _, ok := p.Arguments[a.Name]; a.Required && !ok {
			return nil, invalidParams(fmt.Sprintf("prompt %q needs the argument %q", p.Name, a.Name))
		}
	}
	bind := MethodPromptsGet + "\x00" + p.Name
	if err := s.openState(c.Session, bind, &p.RequestState); err != nil {
		return nil, err
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &GetPromptRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	for round := 0; ; round++ {
		res, err := safeCall(func() (*GetPromptResult, error) { return sp.handler(ctx, req) })
		if req.cancelled(ctx) {
			return nil, ErrNoResponse
		}
		if err != nil {
			return nil, s.eraError(c.Session, jsonrpc.AsError(err))
		}
		if res == nil {
			res = &GetPromptResult{}
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			b, answers, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
			if b != nil || jerr != nil {
				return b, jerr
			}
			p.InputResponses, p.RequestState = answers, res.RequestState
			continue
		}
		if res.Messages == nil {
			res.Messages = []*PromptMessage{}
		}
		res.CacheHints = s.withHints(c.Session, res.CacheHints, false)
		return encode(res)
	}
}
