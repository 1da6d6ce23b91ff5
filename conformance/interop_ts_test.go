package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
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
// tools, receives progress, answers an elicitation, deletes its session,
// gets 404 for the deleted session ID, and starts a new session.
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
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ts-client.mjs", srv.URL())
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			steps[m["step"].(string)] = m
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
	if !slices.Contains(names, any("test_tool_with_progress")) || !slices.Contains(names, any("test_elicitation")) {
		t.Errorf("tools %v", names)
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
}
