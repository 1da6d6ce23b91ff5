package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestBinaryLimits runs the mcpfiber binary, built from this module, as
// hostile clients meet it (issue #14): more idle connections than it has
// descriptors, with the connection cap off and at its default, and clients
// that never read a large response.
func TestBinaryLimits(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash for ulimit")
	}
	bin := filepath.Join(t.TempDir(), "mcpfiber")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("descriptors/cap=off", func(t *testing.T) { testDescriptors(t, bin, false) })
	t.Run("descriptors/cap=default", func(t *testing.T) { testDescriptors(t, bin, true) })
	t.Run("write-timeout", func(t *testing.T) { testWriteTimeout(t, bin) })
}

// fdLimit is the RLIMIT_NOFILE, soft and hard, the binary runs under in
// testDescriptors; idleConns is how many idle connections it gets.
const (
	fdLimit   = 256
	idleConns = 300
)

// testDescriptors starts the binary under ulimit -n 256 and opens 300 idle
// connections. With the cap off, accept runs out of descriptors: the
// process lives on (it used to exit), logs the backoff, and still serves
// the connections it has. With the default cap (192 for 256 descriptors),
// the 108 past it get the 503 and the others are served. Either way, once
// the connections are closed, initialize succeeds.
func testDescriptors(t *testing.T, bin string, capped bool) {
	args := []string{"--addr", "127.0.0.1:0"}
	if !capped {
		args = append(args, "--max-connections", "-1")
	}
	p := startBinary(t, bin, fdLimit, args...)
	wantCap := 0
	if capped {
		wantCap = max(fdLimit*3/4, fdLimit-1024)
	}
	if !strings.Contains(p.listening, " open_file_limit="+strconv.Itoa(fdLimit)+" ") || !strings.Contains(p.listening, " max_connections="+strconv.Itoa(wantCap)) {
		t.Fatalf("listening line %q: want open_file_limit=%d max_connections=%d", p.listening, fdLimit, wantCap)
	}
	addr := strings.TrimPrefix(strings.TrimSuffix(p.url, "/mcp"), "http://")

	conns := make([]net.Conn, 0, idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var refused atomic.Int64
	for range idleConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		if capped && len(conns) > 1 { // conns[0], accepted first, is for /healthz below
			go func() { // owner: the test; exit: the connection closed, by either end
				b := make([]byte, 512)
				n, _ := io.ReadFull(c, b[:len("HTTP/1.1 503")])
				if string(b[:n]) == "HTTP/1.1 503" {
					refused.Add(1)
				}
			}()
		}
	}

	if capped {
		testutil.WaitFor(t, 10*time.Second, func() error {
			if err := p.alive(); err != nil {
				t.Fatal(err)
			}
			if n := refused.Load(); n != int64(idleConns-wantCap) {
				return fmt.Errorf("%d connections got the 503, want %d", n, idleConns-wantCap)
			}
			return nil
		})
	} else {
		testutil.WaitFor(t, 10*time.Second, func() error {
			if err := p.alive(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.stderr(), "accept failed; retrying") {
				return errors.New("no accept backoff logged yet")
			}
			return nil
		})
		if s := p.stderr(); !strings.Contains(s, "too many open files") {
			t.Errorf("backoff logged without EMFILE:\n%s", s)
		}
	}

	// A connection accepted first still works.
	if _, err := conns[0].Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz on an open connection: %v, %v", resp, err)
	}
	resp.Body.Close()
	if err := p.alive(); err != nil {
		t.Fatal(err)
	}

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	testutil.WaitFor(t, 15*time.Second, func() error {
		if err := p.alive(); err != nil {
			t.Fatal(err)
		}
		code, body, err := initialize(hc, p.url)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("initialize: %d %s", code, body)
		}
		return nil
	})
}

// testWriteTimeout starts the binary with --write-timeout 1s and sends
// echo calls of 2 MiB, pipelined, on connections with a 4 KiB receive
// buffer that never read: the server closes them (the open-connection
// gauge drops to 0) within a few seconds, and the clients then read less
// than the responses and EOF or a reset.
func testWriteTimeout(t *testing.T, bin string) {
	p := startBinary(t, bin, 0, "--addr", "127.0.0.1:0", "--write-timeout", "1s", "--metrics-addr", "127.0.0.1:0")
	addr := strings.TrimPrefix(strings.TrimSuffix(p.url, "/mcp"), "http://")
	hc := &http.Client{Timeout: 5 * time.Second}
	const version = "2025-11-25"
	code, _, sid, err := post(hc, p.url, "", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+version+`","capabilities":{},"clientInfo":{"name":"slow","version":"0"}}}`)
	if err != nil || code != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %v, session %q", code, err, sid)
	}
	if code, _, _, err := post(hc, p.url, sid, version, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil || code != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %v", code, err)
	}
	hc.CloseIdleConnections() // so that only the slow clients stay open

	// The kernel takes up to tcp_wmem's 4 MiB of a response into the send
	// buffer, so each slow client pipelines 4 calls, 8 MiB of responses:
	// the server's write blocks in the third.
	const slow, pipelined = 3, 4
	msg := strings.Repeat("a", 2<<20)
	body := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + msg + `"}}}`
	req := "POST /mcp HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
		"Mcp-Session-Id: " + sid + "\r\nMcp-Protocol-Version: " + version + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range slow {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() { // owner: the test; exit: written, or the connection closed
			_, _ = c.Write([]byte(strings.Repeat(req, pipelined)))
		}()
	}
	start := time.Now()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if err := p.alive(); err != nil {
			t.Fatal(err)
		}
		open, err := scrape(hc, p.metrics, "mcpfiber_connections_open")
		if err != nil {
			return err
		}
		if open != 0 {
			return fmt.Errorf("%v connections open", open)
		}
		return nil
	})
	t.Logf("slow clients closed %v after their requests were sent", time.Since(start).Round(time.Millisecond))
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := io.Copy(io.Discard, c)
		if n >= int64(pipelined*len(msg)) || err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("slow client %d read %d bytes, %v; want less than the %d-byte messages, then EOF or a reset", i, n, err, pipelined*len(msg))
		}
	}
}

// binary is a running mcpfiber binary.
type binary struct {
	cmd          *exec.Cmd
	url, metrics string // from the "mcpfiber listening" line
	listening    string // that line
	exited       chan struct{}
	waitErr      error
	mu           sync.Mutex
	out          bytes.Buffer // stderr so far
}

var (
	urlAttr     = regexp.MustCompile(` url=(\S+)`)
	metricsAttr = regexp.MustCompile(` metrics=(\S+)`)
)

// startBinary runs bin with args, under ulimit -n limit if limit > 0, and
// waits for its "mcpfiber listening" line. The process is stopped (SIGTERM,
// then SIGKILL after 10s) when the test ends.
func startBinary(t *testing.T, bin string, limit int, args ...string) *binary {
	t.Helper()
	var cmd *exec.Cmd
	if limit > 0 {
		cmd = exec.Command("bash", append([]string{"-c", `ulimit -n ` + strconv.Itoa(limit) + ` && exec "$0" "$@"`, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &binary{cmd: cmd, exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() { // owner: the test; exit: the process exits and its stderr closes
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			b.mu.Lock()
			b.out.Write(sc.Bytes())
			b.out.WriteByte('\n')
			b.mu.Unlock()
		}
	}()
	go func() { // owner: the test; exit: the process exits
		<-copied
		b.waitErr = cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-b.exited
		}
		if t.Failed() {
			t.Logf("mcpfiber stderr:\n%s", b.stderr())
		}
	})
	testutil.WaitFor(t, 10*time.Second, func() error {
		if err := b.alive(); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.stderr(), "\n") {
			if strings.Contains(line, `msg="mcpfiber listening"`) {
				b.listening = line
				if m := urlAttr.FindStringSubmatch(line); m != nil {
					b.url = m[1]
				}
				if m := metricsAttr.FindStringSubmatch(line); m != nil {
					b.metrics = m[1]
				}
				return nil
			}
		}
		return errors.New("no listening line yet")
	})
	return b
}

func (b *binary) stderr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// alive returns an error once the process has exited.
func (b *binary) alive() error {
	select {
	case <-b.exited:
		return fmt.Errorf("mcpfiber exited: %v\n%s", b.waitErr, b.stderr())
	default:
		return nil
	}
}

// post sends a JSON-RPC body as an MCP client does and returns the
// status, the body and the Mcp-Session-Id.
func post(hc *http.Client, url, sid, version, body string) (int, string, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Mcp-Session-Id"), err
}

func initialize(hc *http.Client, url string) (int, string, error) {
	code, body, _, err := post(hc, url, "", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}`)
	return code, body, err
}

// scrape returns the value of the unlabelled metric name at url.
func scrape(hc *http.Client, url, name string) (float64, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s in the scrape", name)
}
