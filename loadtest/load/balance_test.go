package load

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// downAddr returns an address nobody listens on.
func downAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBalancedClientRoundRobin checks that a balanced client sends each
// request to the next node, and that a node that refuses the connection
// is skipped for the next one, as a round-robin load balancer does.
func TestBalancedClientRoundRobin(t *testing.T) {
	var hits [2]int
	up := func(i int) *httptest.Server {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits[i]++ // the client sends one request at a time
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(ts.Close)
		return ts
	}
	a, b := up(0), up(1)
	down := "http://" + downAddr(t) + "/mcp"
	c, err := NewBalancedClient([]string{a.URL + "/mcp", down, b.URL + "/mcp"}, &Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	failovers := 0
	for i := range 6 {
		r := c.Initialized("s", DefaultProtocolVersion)
		if !r.OK() {
			t.Fatalf("request %d: %s, want 202 (a live node answers)", i, r.Key())
		}
		failovers += r.Failovers
		// Node 1 is down: its turns go to node 2.
		if want := []int{0, 2, 2}[i%3]; r.Node != want {
			t.Errorf("request %d answered by node %d, want %d", i, r.Node, want)
		}
	}
	if hits != [2]int{2, 4} || failovers != 2 {
		t.Errorf("hits %v, failovers %d; want [2 4] and 2 (node 1's two turns)", hits, failovers)
	}

	// No node answers: the error, after trying each once.
	c, err = NewBalancedClient([]string{down, "http://" + downAddr(t) + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Initialized("s", DefaultProtocolVersion); r.Err == nil || r.Failovers != 1 || r.Lost {
		t.Errorf("every node down: %s, failovers %d, lost %v; want a connection error after 1 failover, not lost", r.Key(), r.Failovers, r.Lost)
	}
}

// TestLostInFlight checks that a request in flight on a node marked down
// that fails on its connection is reported lost and not sent to another
// node, while the same failure on a node not marked down is sent on.
func TestLostInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // the node dies with the request in flight
		}
	}))
	defer dropper.Close()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer ok.Close()
	c, err := NewBalancedClient([]string{dropper.URL, ok.URL}, &Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	for _, markDown := range []bool{true, false} {
		got := make(chan Response, 1)
		go func() { got <- c.Initialized("s", DefaultProtocolVersion) }() // owner: the test; exit: the dropper answers
		<-entered
		if markDown {
			c.MarkDown(0)
		}
		release <- struct{}{}
		r := <-got
		if markDown && (!r.Lost || r.Err == nil || r.Node != 0 || r.Failovers != 0) {
			t.Errorf("marked down: lost %v, %s on node %d after %d failovers; want lost on node 0, not sent on", r.Lost, r.Key(), r.Node, r.Failovers)
		}
		if !markDown && (r.Lost || !r.OK() || r.Node != 1 || r.Failovers != 1) {
			t.Errorf("not marked down: lost %v, %s on node %d after %d failovers; want 202 from node 1 after 1 failover", r.Lost, r.Key(), r.Node, r.Failovers)
		}
		// The next request goes to node 1: keep the turns aligned.
		if r := c.Initialized("s", DefaultProtocolVersion); r.Node != 1 {
			t.Fatalf("request answered by node %d, want 1", r.Node)
		}
	}
}

// TestBalancedClient503 checks that a 503 (a node that did not process
// the request) sends the request on to the next node, counted among the
// failovers, and that a 503 from every node is the answer.
func TestBalancedClient503(t *testing.T) {
	status := func(code int) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(code)
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	}
	busy, ok := status(http.StatusServiceUnavailable), status(http.StatusAccepted)
	c, err := NewBalancedClient([]string{busy, ok}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if r := c.Initialized("s", DefaultProtocolVersion); !r.OK() || r.Node != 1 || r.Failovers != 1 || r.Unavailable != 1 {
		t.Errorf("503 on node 0: %s from node %d, failovers %d, 503s %d; want 202 from node 1 after 1 failover, a 503", r.Key(), r.Node, r.Failovers, r.Unavailable)
	}
	c, err = NewBalancedClient([]string{busy, busy}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if r := c.Initialized("s", DefaultProtocolVersion); r.Status != 503 || r.RetryAfter != 1 || r.Failovers != 1 || r.Unavailable != 1 {
		t.Errorf("503 everywhere: %s, Retry-After %d, failovers %d, 503s %d; want the last 503 after 1 failover", r.Key(), r.RetryAfter, r.Failovers, r.Unavailable)
	}
}
