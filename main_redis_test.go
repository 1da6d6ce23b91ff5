package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestBinaryRedis runs several mcpfiber binaries on one redis-server of
// the test's own (issue #10): a session started on one node is served by
// every node, in any order, and outlives the node that started it.
func TestBinaryRedis(t *testing.T) {
	bin := buildBinary(t)
	t.Run("any-node", func(t *testing.T) { testAnyNode(t, bin) })
	t.Run("expiry-and-cap", func(t *testing.T) { testExpiryAndCap(t, bin) })
	t.Run("forged-ids", func(t *testing.T) { testForgedIDs(t, bin) })
	t.Run("redis-down", func(t *testing.T) { testRedisDown(t, bin) })
	t.Run("cluster", func(t *testing.T) { testCluster(t, bin) })
	t.Run("one-get-stream", func(t *testing.T) { testOneGETStream(t, bin) })
}

// openGET opens the GET stream of sid on url and returns the response
// (its body open) or the status of a refusal.
func openGET(t *testing.T, url, sid string) (*http.Response, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", v2025)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	return resp, http.StatusOK
}

// testOneGETStream: a session has one GET stream over all the nodes (409
// for a second, on any node), and another node may open it once the first
// is closed.
func testOneGETStream(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[1].url)
	first, code := openGET(t, n[0].url, sid)
	if code != http.StatusOK {
		t.Fatalf("first GET on node 0 = %d, want 200", code)
	}
	if _, code := openGET(t, n[1].url, sid); code != http.StatusConflict {
		t.Errorf("second GET, on node 1, while node 0 holds one = %d, want 409", code)
	}
	first.Body.Close() // the client closes it: node 0 lets it go
	testutil.WaitFor(t, 5*time.Second, func() error {
		resp, code := openGET(t, n[1].url, sid)
		if code != http.StatusOK {
			return fmt.Errorf("GET on node 1 after node 0's closed = %d, want 200", code)
		}
		resp.Body.Close()
		return nil
	})
}

// testCluster: the same on a Redis Cluster of three masters, the session
// records spread over them by their hash tags.
func testCluster(t *testing.T, bin string) {
	rc := testutil.StartRedisCluster(t, 3)
	var n []*binary
	for range 3 {
		n = append(n, startBinary(t, bin, 0, "--addr", "127.0.0.1:0", "--redis-url", rc.URL(), "--max-sessions", "20", "--grace-period", "2s"))
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	var sids []string
	for i := range 12 { // enough sessions to land on every master
		sid := startSession(t, hc, n[i%3].url, n[(i+1)%3].url)
		call(t, hc, n[(i+2)%3].url, sid, i)
		sids = append(sids, sid)
	}
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	for i, sid := range sids {
		call(t, hc, n[1+i%2].url, sid, 100+i)
	}
	if code, err := del(hc, n[1].url, sids[0]); err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE = %d, %v; want 204", code, err)
	}
	if code := status(hc, n[2].url, sids[0]); code != http.StatusNotFound {
		t.Errorf("ping right after DELETE on another node = %d, want 404", code)
	}
}

// startNodes starts n binaries on rdb with args, each on a port of its
// own.
func startNodes(t *testing.T, bin string, rdb *testutil.Redis, n int, args ...string) []*binary {
	t.Helper()
	nodes := make([]*binary, n)
	for i := range nodes {
		nodes[i] = startBinary(t, bin, 0, append([]string{"--addr", "127.0.0.1:0", "--redis-url", rdb.URL(), "--grace-period", "2s"}, args...)...)
	}
	return nodes
}

const (
	initBody        = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}`
	initializedBody = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	v2025           = "2025-11-25"
)

func echoBody(id int, text string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":%q}}}`, id, text)
}

// startSession initializes on url and sends notifications/initialized to
// next, returning the session ID.
func startSession(t *testing.T, hc *http.Client, url, next string) string {
	t.Helper()
	code, body, sid, err := post(hc, url, "", "", initBody)
	if err != nil || code != http.StatusOK || sid == "" {
		t.Fatalf("initialize on %s = %d %s (sid %q), %v", url, code, body, sid, err)
	}
	if code, body, _, err := post(hc, next, sid, v2025, initializedBody); err != nil || code != http.StatusAccepted {
		t.Fatalf("notifications/initialized on %s = %d %s, %v", next, code, body, err)
	}
	return sid
}

// call runs echo on url and checks its answer.
func call(t *testing.T, hc *http.Client, url, sid string, id int) {
	t.Helper()
	text := "hello " + strconv.Itoa(id)
	code, body, _, err := post(hc, url, sid, v2025, echoBody(id, text))
	if err != nil || code != http.StatusOK || !strings.Contains(body, text) {
		t.Fatalf("tools/call on %s = %d %s, %v; want 200 with %q", url, code, body, err, text)
	}
}

func del(hc *http.Client, url, sid string) (int, error) {
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", v2025)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// status posts a ping and returns the status.
func status(hc *http.Client, url, sid string) int {
	code, _, _, err := post(hc, url, sid, v2025, `{"jsonrpc":"2.0","id":7,"method":"ping"}`)
	if err != nil {
		return 0
	}
	return code
}

// testAnyNode: initialize on node 1, notifications/initialized on node 2,
// calls on node 3; kill -9 node 1 and go on on the others; DELETE on one
// node is 404 on every other at once.
func testAnyNode(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	sid := startSession(t, hc, n[0].url, n[1].url)
	call(t, hc, n[2].url, sid, 2)
	call(t, hc, n[0].url, sid, 3)
	for i, b := range n { // every node, in turn, twice
		call(t, hc, b.url, sid, 10+i)
		call(t, hc, b.url, sid, 20+i)
	}

	// The node that started the session dies without a word.
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	call(t, hc, n[1].url, sid, 30)
	call(t, hc, n[2].url, sid, 31)
	// A node started after it serves it too.
	n3 := startBinary(t, bin, 0, "--addr", "127.0.0.1:0", "--redis-url", rdb.URL())
	call(t, hc, n3.url, sid, 32)

	// DELETE on one node: 404 on every other at once (the DELETE is
	// answered once the other nodes have dropped their copy).
	if code, err := del(hc, n[1].url, sid); err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE = %d, %v; want 204", code, err)
	}
	for i, u := range []string{n[1].url, n[2].url, n3.url} {
		if code := status(hc, u, sid); code != http.StatusNotFound {
			t.Errorf("ping on node %d %s right after DELETE = %d, want 404", i, u, code)
		}
	}
}

// testExpiryAndCap: a session idle for --session-idle-timeout is gone on
// every node; --max-sessions is a cap over all nodes.
func testExpiryAndCap(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2, "--session-idle-timeout", "1s", "--max-sessions", "3")
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	var sids []string
	for i := range 3 {
		sids = append(sids, startSession(t, hc, n[i%2].url, n[(i+1)%2].url))
	}
	if code, body, _, _ := post(hc, n[1].url, "", "", initBody); code != http.StatusServiceUnavailable {
		t.Fatalf("a 4th initialize over 2 nodes with --max-sessions 3 = %d %s, want 503", code, body)
	}
	// Keep one session busy on node 1 for longer than the idle timeout;
	// the other two expire everywhere.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		call(t, hc, n[0].url, sids[0], 100+i)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		for _, sid := range sids[1:] {
			for _, b := range n {
				if code := status(hc, b.url, sid); code != http.StatusNotFound {
					return fmt.Errorf("expired session %s on %s: %d, want 404", sid, b.url, code)
				}
			}
		}
		return nil
	})
	call(t, hc, n[1].url, sids[0], 200) // the busy one lives, on either node
	// Their places in the cap are free again.
	startSession(t, hc, n[1].url, n[0].url)
}

// testForgedIDs: IDs no node could have issued get 404 without a Redis
// command; a well-formed dead ID costs one lookup, not one per request.
func testForgedIDs(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[1].url)
	// A tampered ID: the same shape, one hex digit changed.
	forged := []byte(sid)
	if forged[0] == 'a' {
		forged[0] = 'b'
	} else {
		forged[0] = 'a'
	}
	garbage := []string{"x", strings.Repeat("0", len(sid)), string(forged), strings.ToUpper(sid), sid + "0", "0123456789abcdef0123456789abcdef"}

	before := commandCount(t, rdb, "get")
	for range 50 {
		for _, id := range garbage {
			if code := status(hc, n[1].url, id); code != http.StatusNotFound {
				t.Fatalf("ping with forged ID %q = %d, want 404", id, code)
			}
		}
	}
	if after := commandCount(t, rdb, "get"); after != before {
		t.Errorf("Redis GETs went from %d to %d over 300 requests with forged IDs, want none", before, after)
	}

	// A real ID, deleted: every node learns it is gone with at most one
	// lookup, however many requests name it.
	if code, err := del(hc, n[0].url, sid); err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE = %d, %v", code, err)
	}
	before = commandCount(t, rdb, "get")
	for range 100 {
		for _, b := range n {
			if code := status(hc, b.url, sid); code != http.StatusNotFound {
				t.Fatalf("ping of a deleted session = %d, want 404", code)
			}
		}
	}
	if d := commandCount(t, rdb, "get") - before; d > 2 {
		t.Errorf("200 requests for a deleted session cost %d Redis GETs, want at most one per node", d)
	}
}

// commandCount returns how many times Redis ran cmd (INFO commandstats).
func commandCount(t *testing.T, rdb *testutil.Redis, cmd string) int {
	t.Helper()
	info, err := rdb.Do("INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// testRedisDown: Redis killed under load, then restarted. Sessions held on
// a node keep working; new sessions and sessions not held there get 503
// with Retry-After (never 404: the session may be alive); when Redis
// returns everything works again without a restart. Redis keeps an
// append-only file here, as a production Redis would, so the records
// survive its restart (without persistence they would not, and their
// sessions would end: see the README's "Scale out").
func testRedisDown(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[0].url) // held on node 0 only
	call(t, hc, n[0].url, sid, 1)

	// Load on node 0 while Redis goes away and comes back.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	wg.Add(1)
	go func() { // owner: the test; exit: stop
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			code, _, _, _ := post(hc, n[0].url, sid, v2025, echoBody(1000+i, "load"))
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}
	}()

	rdb.Kill()
	testutil.WaitFor(t, 5*time.Second, func() error {
		code, body, _, _ := post(hc, n[1].url, "", "", initBody)
		if code != http.StatusServiceUnavailable {
			return fmt.Errorf("initialize with Redis down = %d %s, want 503", code, body)
		}
		return nil
	})
	req, _ := http.NewRequest(http.MethodPost, n[1].url, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "session store") {
		t.Errorf("a session not held on the node, Redis down = %d (Retry-After %q) %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	call(t, hc, n[0].url, sid, 2) // held on node 0: still served
	waitStoreState(t, hc, n[0], false)

	rdb.Restart()
	testutil.WaitFor(t, 10*time.Second, func() error {
		code, body, _, _ := post(hc, n[1].url, "", "", initBody)
		if code != http.StatusOK {
			return fmt.Errorf("initialize after Redis came back = %d %s", code, body)
		}
		return nil
	})
	waitStoreState(t, hc, n[0], true)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for code, k := range codes {
		if code != http.StatusOK {
			t.Errorf("%d of the load's calls on the held session got %d, want all 200 (%v)", k, code, codes)
		}
	}
	if codes[http.StatusOK] == 0 {
		t.Errorf("no call of the load succeeded: %v", codes)
	}
	t.Logf("calls on the held session while Redis went away and came back: %v", codes)
}

// waitStoreState waits until node b's /healthz and /metrics show its
// session store up (status "ok", mcpfiber_session_store_up 1) or down
// ("degraded", 0, still 200: the sessions held there keep working).
func waitStoreState(t *testing.T, hc *http.Client, b *binary, up bool) {
	t.Helper()
	status, gauge := `"status":"degraded"`, 0.0
	if up {
		status, gauge = `"status":"ok"`, 1
	}
	health := strings.TrimSuffix(b.url, "/mcp") + "/healthz"
	testutil.WaitFor(t, 10*time.Second, func() error {
		resp, err := hc.Get(health)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), status) || !strings.Contains(string(body), `"store":{`) {
			return fmt.Errorf("/healthz = %d %s, want 200 with %s and the store's state", resp.StatusCode, body, status)
		}
		if v, err := scrape(hc, b.metrics, "mcpfiber_session_store_up"); err != nil || v != gauge {
			return fmt.Errorf("mcpfiber_session_store_up = %v, %v; want %v", v, err, gauge)
		}
		return nil
	})
}
