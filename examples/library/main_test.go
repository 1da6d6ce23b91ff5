package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestREADME checks that the README's "As a library" example is this
// program, byte for byte, so that neither drifts from the other.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## As a library\n")
	if !ok {
		t.Fatal(`README.md has no "## As a library" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal(`README.md: no go code block under "## As a library"`)
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatal(`README.md: the go code block under "## As a library" does not end`)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(src) {
		a, b := strings.Split(block, "\n"), strings.Split(string(src), "\n")
		for i := 0; i < len(a) || i < len(b); i++ {
			var la, lb string
			if i < len(a) {
				la = a[i]
			}
			if i < len(b) {
				lb = b[i]
			}
			if la != lb {
				t.Fatalf("README.md's library example differs from examples/library/main.go at line %d:\nREADME:  %q\nmain.go: %q\n(copy main.go into the README's code block)", i+1, la, lb)
			}
		}
	}
}

// TestRun builds and runs the program: it serves greet, progress
// included, and exits 0 after draining at SIGTERM.
func TestRun(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "library")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd, lines := testutil.Start(t, bin, "--addr", "127.0.0.1:0")
	var url string
	select {
	case l := <-lines:
		m := regexp.MustCompile(`serving (http://\S+/mcp)$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("first log line %q, want serving http://…/mcp", l)
		}
		url = m[1]
	case <-time.After(10 * time.Second):
		t.Fatal("not serving within 10s")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	post := func(sid, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, _ := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: status %d, session %q", resp.StatusCode, sid)
	}
	if resp, body := post(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", resp.StatusCode, body)
	}
	resp, body := post(sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"},"_meta":{"progressToken":"p1"}}}`)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
		!strings.Contains(body, `"method":"notifications/progress"`) || !strings.Contains(body, `"text":"hello, Ada"`) {
		t.Fatalf("tools/call greet: %s\n%s", resp.Header.Get("Content-Type"), body)
	}
	if _, body := post(sid, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet","arguments":{}}}`); !strings.Contains(body, `"isError":true`) {
		t.Fatalf("tools/call greet without a name: %s", body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	for l := range lines {
		rest.WriteString(l + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, rest.String())
	}
	if !strings.HasSuffix(rest.String(), "stopped\n") {
		t.Errorf("log after SIGTERM:\n%s\nwant it to end in stopped", rest.String())
	}
}
