package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/server"
)

// TestInteropTypeScriptSDKAuth drives the server, with --auth-issuer, by
// the official TypeScript SDK client with its OAuth support: it meets the
// 401, follows resource_metadata to the Protected Resource Metadata and
// the issuer's metadata, gets a token with the client_credentials grant
// (RFC 8707 resource: this server) from a real issuer on loopback, and
// completes a session.
func TestInteropTypeScriptSDKAuth(t *testing.T) {
	node, dir := tsSDK(t)
	script, err := os.ReadFile("interop/ts-auth-client.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ts-auth-client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	is := oauthtest.Start(t, false)
	// The resource URI is the endpoint's URL, which the client checks
	// against the metadata: take a port first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	resource := "http://" + addr + "/mcp"
	srv := server.New(server.Config{
		Addr:        addr,
		Catalog:     "conformance",
		KeepAlive:   -1,
		DrainWindow: time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:        auth.Config{Issuer: is.URL, Resource: resource, Scopes: []string{"mcp"}},
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }() // owner: the test; exit: Shutdown in Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ts-auth-client.mjs", srv.URL(), is.URL, is.ClientID, is.ClientSecret)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node ts-auth-client.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr.Bytes())
	}
	t.Logf("TypeScript SDK client:\n%s", stdout)
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			steps[m["step"].(string)] = m
		}
	}
	if steps["connected"]["token"] != true || steps["done"] == nil {
		t.Errorf("steps %v: want a token and a completed session", steps)
	}
	if text, _ := steps["called"]["text"].(string); text != "This is a simple text response for testing." {
		t.Errorf("tool result %q", text)
	}
	if n := is.Tokens(); n < 1 {
		t.Errorf("tokens issued = %d, want at least 1", n)
	}
}
