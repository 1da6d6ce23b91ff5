package mcp

// Resources (2025-11-25 server/resources): registration of resources and
// templates, resources/list, resources/templates/list, resources/read and
// the session subscriptions.

import (
	"context"
	"fmt"
	"slices"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A ResourceHandler reads a resource, or the resources of a template
// (2025-11-25 server/resources). It returns [ResourceNotFoundError] for a
// URI it does not serve.
type ResourceHandler func(ctx context.Context, req *ReadResourceRequest) (*ReadResourceResult, error)

type serverResource struct {
	resource *Resource
	handler  ResourceHandler
}

type serverTemplate struct {
	template *ResourceTemplate
	match    func(uri string) bool
	handler  ResourceHandler
}

// AddResource adds r, or replaces the resource with the same URI, and
// tells the clients that listen (notifications/resources/list_changed). It
// panics if r has no URI or name.
func (s *Server) AddResource(r *Resource, h ResourceHandler) {
	if r.URI == "" || r.Name == "" || h == nil {
		panic("mcp: AddResource needs a URI, a name and a handler")
	}
	s.mu.Lock()
	s.resources[r.URI] = &serverResource{resource: r, handler: h}
	s.noteScopes(r.Scopes)
	s.hasRes = true
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// AddResourceTemplate adds t, or replaces the template with the same URI
// template. Reads of URIs no resource has go to the first template that
// matches (RFC 6570 level 1–2 expressions: {var}, {+var}, {#var}). It
// panics if t has no name or its URI template does not parse.
func (s *Server) AddResourceTemplate(t *ResourceTemplate, h ResourceHandler) {
	if t.Name == "" || h == nil {
		panic("mcp: AddResourceTemplate needs a name and a handler")
	}
	match, err := compileURITemplate(t.URITemplate)
	if err != nil {
		panic(fmt.Sprintf("mcp: resource template %q: %v", t.Name, err))
	}
	s.mu.Lock()
	st := &serverTemplate{template: t, match: match, handler: h}
	i := slices.IndexFunc(s.templates, func(o *serverTemplate) bool { return o.template.URITemplate == t.URITemplate })
	if i >= 0 {
		s.templates[i] = st
	} else {
		s.templates = append(s.templates, st)
	}
	s.hasRes = true
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// RemoveResources removes the resources with the given URIs (and templates
// with the given URI templates) and tells the clients that listen.
func (s *Server) RemoveResources(uris ...string) {
	s.mu.Lock()
	for _, u := range uris {
		delete(s.resources, u)
		s.templates = slices.DeleteFunc(s.templates, func(t *serverTemplate) bool { return t.template.URITemplate == u })
	}
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// listResources answers resources/list: a page of the resources by URI
// (see pagination.go; 2025-11-25 server/utilities/pagination).
func (s *Server) listResources(c *Call) ([]byte, *jsonrpc.Error) {
	at, jerr := listCursor(listResources, c.Params)
	if jerr != nil {
		return nil, jerr
	}
	s.mu.RLock()
	resources := make([]*Resource, 0, len(s.resources))
	for _, r := range s.resources {
		resources = append(resources, r.resource)
	}
	s.mu.RUnlock()
	res := ListResourcesResult{CacheHints: s.hints(c.Session, true)}
	res.Resources, res.NextCursor = page(s, listResources, resources, func(r *Resource) string { return r.URI }, at)
	return encode(res)
}

// listTemplates answers resources/templates/list: a page of the templates
// by URI template (see pagination.go; 2025-11-25
// server/utilities/pagination). The order is the list's own; reads still
// try the templates in the order they were added.
func (s *Server) listTemplates(c *Call) ([]byte, *jsonrpc.Error) {
	at, jerr := listCursor(listTemplates, c.Params)
	if jerr != nil {
		return nil, jerr
	}
	s.mu.RLock()
	templates := make([]*ResourceTemplate, 0, len(s.templates))
	for _, t := range s.templates {
		templates = append(templates, t.template)
	}
	s.mu.RUnlock()
	res := ListResourceTemplatesResult{CacheHints: s.hints(c.Session, true)}
	res.ResourceTemplates, res.NextCursor = page(s, listTemplates, templates, func(t *ResourceTemplate) string { return t.URITemplate }, at)
	return encode(res)
}

// findResource returns the handler for uri: its resource's, else the
// first matching template's.
func (s *Server) findResource(uri string) ResourceHandler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.resources[uri]; r != nil {
		return r.handler
	}
	for _, t := range s.templates {
		if t.match(uri) {
			return t.handler
		}
	}
	return nil
}

func (s *Server) readResource(c *Call) ([]byte, *jsonrpc.Error) {
	var p ReadResourceParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.URI == "" {
		return nil, invalidParams("resources/read needs params with a uri")
	}
	h := s.findResource(p.URI)
	if h == nil {
		return nil, s.eraError(c.Session, ResourceNotFoundError(p.URI))
	}
	bind := MethodResourcesRead + "\x00" + p.URI
	if err := s.openState(c.Session, bind, &p.RequestState); err != nil {
		return nil, err
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &ReadResourceRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	for round := 0; ; round++ {
		res, err := safeCall(func() (*ReadResourceResult, error) { return h(ctx, req) })
		if req.cancelled(ctx) {
			return nil, ErrNoResponse
		}
		if err != nil {
			return nil, s.eraError(c.Session, jsonrpc.AsError(err))
		}
		if res == nil || (len(res.InputRequests) == 0 && res.RequestState == "" && len(res.Contents) == 0) {
			// 2026-07-28 server/resources: "Servers MUST NOT return an
			// empty contents array for a non-existent resource."
			return nil, s.eraError(c.Session, ResourceNotFoundError(p.URI))
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			b, answers, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
			if b != nil || jerr != nil {
				return b, jerr
			}
			p.InputResponses, p.RequestState = answers, res.RequestState
			continue
		}
		res.CacheHints = s.withHints(c.Session, res.CacheHints, true)
		return encode(res)
	}
}

// subscribe answers resources/subscribe (2025-11-25 server/resources
// §Subscriptions).
func (s *Server) subscribe(c *Call) ([]byte, *jsonrpc.Error) {
	uri, jerr := subscribeURI(c)
	if jerr != nil {
		return nil, jerr
	}
	c.Session.subscribe(uri)
	return emptyResult, nil
}

// unsubscribe answers resources/unsubscribe.
func (s *Server) unsubscribe(c *Call) ([]byte, *jsonrpc.Error) {
	uri, jerr := subscribeURI(c)
	if jerr != nil {
		return nil, jerr
	}
	c.Session.unsubscribe(uri)
	return emptyResult, nil
}

// subscribeURI returns the uri of resources/subscribe and
// resources/unsubscribe params.
func subscribeURI(c *Call) (string, *jsonrpc.Error) {
	var p SubscribeParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.URI == "" {
		return "", invalidParams(c.Method + " needs params with a uri")
	}
	return p.URI, nil
}
