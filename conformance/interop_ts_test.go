package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/server"
)

// tsSDK returns the Node binary and the directory holding the pinned
// TypeScript SDK that `make conformance` installs into .tools/, skipping
// the test when they are not there.
func tsSDK(t *testing.T) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs("../.tools/conformance/ts-sdk")
	if err != nil {
		t.Fatal(err)
	}
	nodePath, err := os.ReadFile("../.tools/conformance/node-path")
	if _, serr := os.Stat(filepath.Join(dir, "node_modules/@modelcontextprotocol/sdk/package.json")); err != nil || serr != nil {
		if os.Getenv("CI") != "" { // make test installs it first: in CI a skip would hide a broken install
			t.Fatal("the TypeScript SDK is not installed (CI is set): make test runs make conformance first, which installs it")
		}
		t.Skip("the TypeScript SDK is not installed: run `make conformance` (make test does) first")
	}
	return strings.TrimSpace(string(nodePath)), dir
}

// TestInteropTypeScriptSDK drives the server with the official TypeScript
// SDK client (@modelcontextprotocol/sdk 1.32.2, conformance/npm/ts-sdk),
// run by the Node that runs the conformance suite: it lists and calls
// tools (the typed tool typed_sum among them), receives progress, answers
// an elicitation, deletes its session, gets 404 for the deleted session
// ID, and starts a new session. It runs against one node, and against two
// nodes on Redis with the client's requests alternating between them
// (issue #10): then the answer to the elicitation reaches the other node
// than the call, and the 404 comes from a node that did not serve the
// DELETE.
func TestInteropTypeScriptSDK(t *testing.T) {
	node, dir := tsSDK(t)
	script, err := os.ReadFile("interop/ts-client.mjs")
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves the SDK next to the script: run a copy from there.
	if err := os.WriteFile(filepath.Join(dir, "ts-client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			nodes, ngx := startTopology(t, top.nodes, top.nginx)
			interopTypeScript(t, node, dir, nodes, ngx)
		})
	}
}

// interopTypeScript runs the TypeScript SDK client against nodes, its
// requests alternating between them, or through ngx when it is not nil.
func interopTypeScript(t *testing.T, node, dir string, nodes []*server.Server, ngx *testutil.Nginx) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"ts-client.mjs"}
	if ngx != nil {
		args = append(args, "http://"+ngx.Addr()+strings.TrimPrefix(nodes[0].URL(), "http://"+nodes[0].Addr().String()))
	} else {
		for _, n := range nodes {
			args = append(args, n.URL())
		}
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	steps := map[string]map[string]any{}
	var routes struct {
		Routes []route `json:"routes"`
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			steps[m["step"].(string)] = m
		}
		if m["step"] == "routes" {
			_ = json.Unmarshal(sc.Bytes(), &routes)
		}
	}
	if err != nil {
		t.Fatalf("node ts-client.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr.Bytes())
	}
	t.Logf("TypeScript SDK client:\n%s", stdout)

	if v := steps["connected"]["protocolVersion"]; v != nil && v != "2025-11-25" {
		t.Errorf("negotiated %v, want 2025-11-25", v)
	}
	names, _ := steps["tools"]["names"].([]any)
	if !slices.Contains(names, any("test_tool_with_progress")) || !slices.Contains(names, any("test_elicitation")) || !slices.Contains(names, any("typed_sum")) {
		t.Errorf("tools %v", names)
	}
	typed := steps["typed"]
	wantIn, wantOut := typedSchemas(t)
	if !reflect.DeepEqual(typed["inputSchema"], any(wantIn)) || !reflect.DeepEqual(typed["outputSchema"], any(wantOut)) {
		t.Errorf("typed_sum schemas: input %v, output %v; want %v, %v", typed["inputSchema"], typed["outputSchema"], wantIn, wantOut)
	}
	var copied any
	text, _ := typed["text"].(string)
	if err := json.Unmarshal([]byte(text), &copied); err != nil || typed["isError"] != false ||
		!reflect.DeepEqual(typed["structuredContent"], any(map[string]any{"sum": float64(42)})) || !reflect.DeepEqual(copied, typed["structuredContent"]) {
		t.Errorf("typed_sum result: %v, want structuredContent {sum: 42} and a text copy of it", typed)
	}
	if p, _ := steps["progress"]["progress"].([]any); len(p) != 3 {
		t.Errorf("progress notifications %v, want 3", steps["progress"])
	}
	if steps["elicit"] == nil {
		t.Errorf("the client was never asked to elicit")
	}
	if text, _ := steps["elicitation"]["text"].(string); !strings.Contains(text, `"username":"ts-user"`) {
		t.Errorf("elicitation result %q", text)
	}
	if code, _ := steps["stale"]["code"].(float64); steps["stale"]["ok"] != false || code != 404 {
		t.Errorf("request with the deleted session ID: %v, want a 404 error", steps["stale"])
	}
	re := steps["reinitialized"]
	if re == nil || re["text"] != "This is a simple text response for testing." || re["sessionId"] == steps["deleted"]["sessionId"] {
		t.Errorf("after starting over: %v (deleted %v)", re, steps["deleted"])
	}
	if ngx != nil {
		if ups := ngx.Upstreams(); len(ups) != len(nodes) {
			t.Errorf("nginx sent requests to %v, want each of the %d nodes", ups, len(nodes))
		}
		return
	}
	if len(nodes) == 1 {
		return
	}
	used := map[int]bool{}
	for _, r := range routes.Routes {
		used[r.Node] = true
	}
	if len(used) != len(nodes) {
		t.Errorf("requests reached nodes %v of %d: %v", used, len(nodes), routes.Routes)
	}
	if crossed(routes.Routes) == 0 {
		t.Errorf("no answer to a server request reached another node than its call: the relay went untested: %v", routes.Routes)
	}
}
