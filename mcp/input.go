package mcp

// Input requests of handlers: asked of a legacy session's client in turn,
// or returned as a 2026-07-28 InputRequiredResult with sealed
// requestState (2026-07-28 basic/patterns/mrtr).

import (
	"context"
	"fmt"
	"slices"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// maxInputRounds bounds how often a handler may ask a legacy session's
// client for input within one request.
const maxInputRounds = 8

// needInput handles a handler's input-required outcome. At 2026-07-28 it
// returns the encoded InputRequiredResult, its state sealed (2026-07-28
// basic/patterns/mrtr). In a legacy session it asks the client each input
// request itself, on the request's stream, and returns the answers for the
// next round.
func (s *Server) needInput(ctx context.Context, r *Request, bind string, round int, reqs InputRequests, state string, meta Meta) ([]byte, InputResponses, *jsonrpc.Error) {
	if !validInputRequests(reqs) {
		return nil, nil, internalError("a handler returned an input request that is not elicitation/create, sampling/createMessage or roots/list")
	}
	st := r.Session
	if missing := requiredFor(reqs, &st.ClientCapabilities); missing != nil {
		return nil, nil, MissingCapabilityError("the request needs client capabilities the client did not declare", missing)
	}
	if st.stateless {
		res := inputRequiredResult{ResultType: ResultTypeInputRequired, InputRequests: reqs, Meta: Meta{MetaServerInfo: s.impl}}
		for k, v := range meta {
			res.Meta[k] = v
		}
		if state != "" {
			res.RequestState = s.sealer.seal(bind+principalBind(st.principal), state)
		}
		b, jerr := encode(res)
		return b, nil, jerr
	}
	if round >= maxInputRounds {
		return nil, nil, internalError(fmt.Sprintf("the handler asked for input more than %d times", maxInputRounds))
	}
	answers := make(InputResponses, len(reqs))
	keys := make([]string, 0, len(reqs))
	for k := range reqs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ir := reqs[k]
		var raw json.RawMessage
		if err := st.call(ctx, r.outbound(), s.clientTimeout(), ir.Method, ir.Params, &raw); err != nil {
			if r.cancelled(ctx) {
				return nil, nil, ErrNoResponse
			}
			return nil, nil, jsonrpc.AsError(fmt.Errorf("asking the client (%s): %w", ir.Method, err))
		}
		answers[k] = raw
	}
	return nil, answers, nil
}

// inputRequiredResult is the wire form of InputRequiredResult.
type inputRequiredResult struct {
	ResultType    string        `json:"resultType"`
	InputRequests InputRequests `json:"inputRequests,omitempty"`
	RequestState  string        `json:"requestState,omitempty"`
	Meta          Meta          `json:"_meta,omitempty"`
}

// openState replaces a 2026-07-28 request's sealed requestState by the
// handler's plain state, or fails with CodeInvalidParams when it was
// tampered with, has expired or belongs to another request. Legacy
// requests keep theirs (the server made it itself, in the same process).
func (s *Server) openState(st *SessionState, bind string, state *string) *jsonrpc.Error {
	if !st.stateless || *state == "" {
		return nil
	}
	plain, err := s.sealer.open(bind+principalBind(st.principal), *state)
	if err != nil {
		return invalidParams("requestState: " + err.Error())
	}
	*state = plain
	return nil
}
