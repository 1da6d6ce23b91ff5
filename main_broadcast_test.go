package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/redisstore"
)

// TestBinaryBroadcastKill (issue #11): GET streams of several sessions
// are open on node 1 of three binaries sharing a redis-server of the
// test's own, and a steady flow of server-wide log messages
// (mcp.Server.LogAll, data {"seq": n}) comes from another node: the test
// process itself, an mcp.Server whose OnNotifyAll adds them to the
// broadcast log as server.New's does. Node 1 is killed with SIGKILL; a
// few more messages are raised while no node holds the streams, and each
// client resumes its GET stream with Last-Event-ID on node 2 or 3. Every
// client finally holds every seq exactly once, in order: the events node
// 1 logged, then the broadcasts it had not logged or that came while no
// node held the stream, replayed from the broadcast log by the new
// holder, then the live ones.
func TestBinaryBroadcastKill(t *testing.T) {
	const (
		clients   = 8
		total     = 400                  // messages
		interval  = 2 * time.Millisecond // between two
		beforeKil = 60                   // messages each client reads before the kill
		unheld    = 20                   // messages raised after the kill before the clients resume
	)
	bin := buildBinary(t)
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	// The node raising the messages: LogAll → OnNotifyAll → the log, in
	// the wire form of server/forward.go's broadcastNotify.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	st, err := redisstore.New(ctx, rdb.URL(), nil)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := mcp.NewServer(mcp.Implementation{Name: "source", Version: "0"}, &mcp.ServerOptions{
		OnNotifyAllSelf: true,
		OnNotifyAll: func(method string, params json.RawMessage) {
			b, _ := json.Marshal(map[string]any{"method": method, "params": params})
			st.Broadcast(b)
		},
	})

	type client struct {
		sid    string
		get    *sseStream
		got    []int
		lastID string
	}
	cs := make([]*client, clients)
	for i := range cs {
		c := &client{sid: startSession(t, hc, n[0].url, n[i%3].url)}
		req, _ := http.NewRequest(http.MethodGet, n[0].url, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", c.sid)
		req.Header.Set("Mcp-Protocol-Version", v2025)
		if c.get, err = openSSE(req, 60*time.Second); err != nil {
			t.Fatal(err)
		}
		defer c.get.cancel()
		cs[i] = c
	}
	// Every stream is held by node 1 once its priming event came: the
	// claim and the hold come before the response.
	for _, c := range cs {
		for c.get.lastID == "" {
			line, err := c.get.br.ReadString('\n')
			if err != nil {
				t.Fatalf("GET stream of %s: no priming event: %v", c.sid, err)
			}
			if id, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "id: "); ok {
				c.get.lastID = id
			}
		}
	}

	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owner: the test; exit: total messages sent, or stop
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for seq := 1; seq <= total; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if err := src.LogAll(mcp.LevelInfo, "seq", map[string]int{"seq": seq}); err != nil {
				t.Error(err)
				return
			}
			sent.Store(int64(seq))
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	// read takes the next log message of c's stream.
	read := func(c *client, s *sseStream) error {
		e, err := s.next()
		if err != nil {
			return err
		}
		var m struct {
			Method string `json:"method"`
			Params struct {
				Data struct {
					Seq int `json:"seq"`
				} `json:"data"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(e.data), &m); err != nil || m.Method != mcp.NotificationMessage {
			return fmt.Errorf("unexpected event %+v: %v", e, err)
		}
		c.got = append(c.got, m.Params.Data.Seq)
		c.lastID = e.id
		return nil
	}
	for _, c := range cs {
		for len(c.got) < beforeKil {
			if err := read(c, c.get); err != nil {
				t.Fatalf("session %s on node 1: %v", c.sid, err)
			}
		}
	}
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	killedAt := sent.Load()
	testutil.WaitFor(t, 10*time.Second, func() error { // messages while no node holds the streams
		if got := sent.Load(); got < killedAt+unheld && got < total {
			return fmt.Errorf("%d messages sent since the kill", got-killedAt)
		}
		return nil
	})
	for i, c := range cs {
		to := n[1+i%2]
		c.get.cancel()
		r, err := resumeOn(to.url, c.sid, c.lastID, 60*time.Second)
		if err != nil {
			t.Fatalf("session %s: resume after %s on %s: %v", c.sid, c.lastID, to.url, err)
		}
		defer r.cancel()
		c.get = r
	}
	for _, c := range cs {
		for len(c.got) == 0 || c.got[len(c.got)-1] < total {
			if err := read(c, c.get); err != nil {
				t.Fatalf("session %s after the resumption (last %d): %v", c.sid, c.got[len(c.got)-1], err)
			}
		}
		for i, seq := range c.got {
			if seq != i+1 {
				t.Fatalf("session %s: message %d has seq %d (killed after %d; got %v)", c.sid, i+1, seq, killedAt, c.got)
			}
		}
		if len(c.got) != total {
			t.Fatalf("session %s: %d messages, want %d", c.sid, len(c.got), total)
		}
	}
	if h := st.Health(); h.BroadcastsLocal != 0 || h.BroadcastsDropped != 0 {
		t.Errorf("source node: %d broadcasts delivered locally only, %d dropped; want none", h.BroadcastsLocal, h.BroadcastsDropped)
	}
	t.Logf("%d sessions, %d messages each, node 1 killed after %d, resumed after %d", clients, total, killedAt, killedAt+unheld)
}
