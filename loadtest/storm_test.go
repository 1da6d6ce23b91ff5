package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

// fakeStorm is an MCP server for storms that fail in part: before the
// sessions are lost it serves every initialize; after, only the first
// okAfterLoss, and 503 to the rest.
type fakeStorm struct {
	okAfterLoss int

	mu        sync.Mutex
	live      map[string]bool
	next      int
	lost      bool
	initsLost int
}

func (f *fakeStorm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sid := r.Header.Get("Mcp-Session-Id")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodDelete:
		if !f.live[sid] {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		delete(f.live, sid)
		f.lost = true
	case bytes.Contains(body, []byte(`"initialize"`)):
		if f.lost {
			if f.initsLost++; f.initsLost > f.okAfterLoss {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		f.next++
		id := "s" + strconv.Itoa(f.next)
		f.live[id] = true
		w.Header().Set("Mcp-Session-Id", id)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}`)
	case bytes.Contains(body, []byte(`notifications/initialized`)):
		w.WriteHeader(http.StatusAccepted)
	case !f.live[sid]:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	}
}

// TestStormTotals checks, on a storm in which most clients fail, that
// the progress counts every client twice (so the bar reaches 100%), and
// that the results add up: ops = ok + errors = clients; clients =
// recovered + failed; requests = useful + 404 + other; the statuses
// count the requests.
func TestStormTotals(t *testing.T) {
	const clients, recover = 20, 5
	ts := httptest.NewServer(&fakeStorm{okAfterLoss: recover, live: map[string]bool{}})
	defer ts.Close()
	client, err := load.NewClient(ts.URL+"/mcp", &load.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	st := &load.Storm{Client: client, Clients: clients, Progress: &done, Deadline: 300 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	start := time.Now()
	sr, err := st.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := done.Load(); got != 2*clients {
		t.Errorf("progress %d, want %d: every client's handshake and recovery, failed or not", got, 2*clients)
	}
	if sr.Recovered != recover || sr.Failures != clients-recover {
		t.Fatalf("recovered %d, failed %d; want %d and %d", sr.Recovered, sr.Failures, recover, clients-recover)
	}
	res := stormResult(sr, start, time.Since(start))
	if res.Requests != clients || res.OK+res.Errors != res.Requests {
		t.Errorf("ops %d, ok %d, errors %d; want ops = clients = ok + errors", res.Requests, res.OK, res.Errors)
	}
	var statuses int64
	for _, n := range res.Statuses {
		statuses += n
	}
	if statuses != sr.Requests {
		t.Errorf("statuses add up to %d, requests are %d", statuses, sr.Requests)
	}

	var out bytes.Buffer
	res.Scenario, res.URL = "storm", ts.URL
	writeMarkdown(&out, &res)
	md := out.String()
	row := func(header string) []int {
		lines := strings.Split(md, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, header) && i+2 < len(lines) {
				var nums []int
				for _, f := range strings.Split(lines[i+2], "|") {
					if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
						nums = append(nums, n)
					}
				}
				return nums
			}
		}
		t.Fatalf("no table %q in:\n%s", header, md)
		return nil
	}
	// | policy | clients | established | recovered | failed | …
	c := row("| policy | clients |")
	if len(c) < 4 || c[0] != clients || c[2]+c[3] != c[0] || c[2] != recover {
		t.Errorf("clients row %v: want clients %d = recovered %d + failed\n%s", c, clients, recover, md)
	}
	// | requests | useful | wasted: 404 | wasted: other | …
	r := row("| requests |")
	if len(r) < 4 || int64(r[0]) != sr.Requests || r[1]+r[2]+r[3] != r[0] || r[2] != clients {
		t.Errorf("requests row %v: want requests %d = useful + 404 (%d, one per client) + other\n%s", r, sr.Requests, clients, md)
	}
	if strings.Contains(md, "| loop |") {
		t.Errorf("a storm's report has the loop table, whose ops/ok/errors mix requests and clients:\n%s", md)
	}
}
