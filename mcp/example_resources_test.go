package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A resource at a fixed URI, read with resources/read.
func ExampleServer_AddResource() {
	srv := mcp.NewServer(mcp.Implementation{Name: "files", Version: "1"}, nil)
	srv.AddResource(&mcp.Resource{URI: "file:///notes.txt", Name: "notes", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
				{URI: req.Params.URI, MIMEType: "text/plain", Text: "buy milk"},
			}}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	for i, c := range []struct{ method, params string }{
		{"resources/list", `{}`},
		{"resources/read", `{"uri":"file:///notes.txt"}`},
	} {
		res, jerr := conn.Handle(&mcp.Call{
			Session: conn.State(),
			Method:  c.method,
			ID:      json.RawMessage(fmt.Sprint(i + 1)),
			Params:  json.RawMessage(c.params),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		fmt.Printf("%s: %s\n", c.method, res)
	}
	// Output:
	// resources/list: {"resources":[{"uri":"file:///notes.txt","name":"notes","mimeType":"text/plain"}]}
	// resources/read: {"contents":[{"uri":"file:///notes.txt","mimeType":"text/plain","text":"buy milk"}]}
}

// A resource template: one handler for every URI that matches an RFC 6570
// template. resources/read finds it when no fixed resource has the URI.
func ExampleServer_AddResourceTemplate() {
	srv := mcp.NewServer(mcp.Implementation{Name: "users", Version: "1"}, nil)
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "users://{id}/profile", Name: "profile", MIMEType: "application/json"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			id := strings.TrimSuffix(strings.TrimPrefix(req.Params.URI, "users://"), "/profile")
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
				{URI: req.Params.URI, MIMEType: "application/json", Text: `{"id":"` + id + `"}`},
			}}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	for i, c := range []struct{ method, params string }{
		{"resources/templates/list", `{}`},
		{"resources/read", `{"uri":"users://42/profile"}`},
	} {
		res, jerr := conn.Handle(&mcp.Call{
			Session: conn.State(),
			Method:  c.method,
			ID:      json.RawMessage(fmt.Sprint(i + 1)),
			Params:  json.RawMessage(c.params),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		fmt.Printf("%s: %s\n", c.method, res)
	}
	// Output:
	// resources/templates/list: {"resourceTemplates":[{"uriTemplate":"users://{id}/profile","name":"profile","mimeType":"application/json"}]}
	// resources/read: {"contents":[{"uri":"users://42/profile","mimeType":"application/json","text":"{\"id\":\"42\"}"}]}
}

// Subscriptions: a session that sent resources/subscribe for a URI is told
// when Server.ResourceUpdated reports a change to it, on the session's
// own stream (the GET stream, which the transport sets with
// SessionState.SetOutbound). Other URIs and other sessions hear nothing.
func ExampleServer_ResourceUpdated() {
	srv := mcp.NewServer(mcp.Implementation{Name: "files", Version: "1"}, nil)
	read := func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "..."}}}, nil
	}
	srv.AddResource(&mcp.Resource{URI: "file:///a.txt", Name: "a"}, read)
	srv.AddResource(&mcp.Resource{URI: "file:///b.txt", Name: "b"}, read)

	conn := connect(srv, `{}`)
	defer conn.Close()
	conn.State().SetOutbound(printOut)
	if _, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "resources/subscribe",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"uri":"file:///a.txt"}`),
	}); jerr != nil {
		log.Fatal(jerr)
	}

	srv.ResourceUpdated("file:///a.txt")
	srv.ResourceUpdated("file:///b.txt") // not subscribed: nothing is sent
	// Output:
	// server sends {"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"file:///a.txt"}}
}
