package load

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		sse        bool
		want       Response
	}{
		{"json result", `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`, false, Response{Result: true}},
		{"json error", `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}`, false, Response{RPCError: -32001}},
		{"json error code after message", `{"jsonrpc":"2.0","id":3,"error":{"message":"x","code": -32022}}`, false, Response{RPCError: -32022}},
		{"json error without code", `{"jsonrpc":"2.0","id":3,"error":{"message":"x"}}`, false, Response{RPCError: -1}},
		{"initialize", `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}`, false, Response{Result: true, Version: "2025-06-18"}},
		{"plain text 404", "session not found\n", false, Response{}},
		{"sse: notification then result", "id: 1_0\nretry: 3000\ndata: \n\n" +
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n" +
			"id: 1_2\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n\n", true, Response{Result: true}},
		{"sse: error", "data: {\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,\"message\":\"bad\"}}\n\n", true, Response{RPCError: -32602}},
		{"sse: nothing", ": keepalive\n\n", true, Response{}},
	} {
		got := Response{SSE: tc.sse}
		summarise(&got, []byte(tc.body))
		tc.want.SSE = tc.sse
		if got != tc.want {
			t.Errorf("%s: summarise = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzSummarise(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","error":{"code":-32001,"message":"x"},"id":null}`), false)
	f.Add([]byte("data: {\"result\":{\"protocolVersion\":\"2025-11-25\n\n"), true)
	f.Add([]byte(`"error":{"code":-`), false)
	f.Fuzz(func(t *testing.T, body []byte, sse bool) {
		r := Response{SSE: sse}
		summarise(&r, body) // must not panic
		if r.Result && r.RPCError != 0 {
			t.Errorf("summarise(%q) found both a result and an error", body)
		}
	})
}

func TestResponseKey(t *testing.T) {
	for _, tc := range []struct {
		r    Response
		want string
	}{
		{Response{Status: 404, RPCError: -32001}, "404 -32001"},
		{Response{Status: 202}, "202"},
		{Response{Err: &net.OpError{Op: "dial", Err: io.EOF}}, "error: dial EOF"},
	} {
		if got := tc.r.Key(); got != tc.want {
			t.Errorf("%+v.Key() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestParseGoroutines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 42\n", 42},
		{"go_goroutines 7\n", 7},
		{"go_goroutines 1.2e+03\n", 1200},
		{"goroutine profile: total 13\n5 @ 0x1\n", 13},
		{`{"cmdline":[],"goroutines": 99}`, 99},
	} {
		if got, err := parseGoroutines([]byte(tc.in)); err != nil || got != tc.want {
			t.Errorf("parseGoroutines(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseGoroutines([]byte("go_threads 3\n")); err == nil {
		t.Error("parseGoroutines without a count: no error")
	}
}

func TestRecorderWindowsAndBuckets(t *testing.T) {
	start := time.Unix(1000, 0)
	r := NewRecorder(start, time.Second)
	for i := range 100 {
		at := start.Add(time.Duration(i) * 30 * time.Millisecond) // 0 to 2.97 s
		r.Record(at, at.Add(time.Duration(i+1)*time.Millisecond), i%10 != 0, "x")
	}
	// Windows go by the end of each operation: the last ones end at 3.07s.
	res := r.Result(start.Add(4 * time.Second))
	if res.Requests != 100 || res.OK != 90 || res.Errors != 10 {
		t.Fatalf("counts: %d ops, %d ok, %d errors; want 100, 90, 10", res.Requests, res.OK, res.Errors)
	}
	if len(res.Windows) != 4 {
		t.Fatalf("%d windows, want 4: %+v", len(res.Windows), res.Windows)
	}
	var n, errs int64
	for _, w := range res.Windows {
		n += w.Count
		errs += w.Errors
		if w.P50 > w.P99 || w.P99 > w.Max {
			t.Errorf("window %+v: percentiles out of order", w)
		}
	}
	if n != 100 || errs != 10 {
		t.Errorf("windows hold %d ops and %d errors, want 100 and 10", n, errs)
	}
	if p := res.Latency.P50; p < 49 || p > 52 {
		t.Errorf("p50 = %v ms, want about 50", p)
	}
	var inBuckets int64
	for i, b := range res.Buckets {
		inBuckets += b.Count
		if b.ToMs <= b.FromMs || i > 0 && b.FromMs < res.Buckets[i-1].ToMs*0.999 {
			t.Errorf("bucket %d %+v: not increasing", i, b)
		}
	}
	if inBuckets != 100 {
		t.Errorf("buckets hold %d ops, want 100", inBuckets)
	}
}

// TestStreamRead checks the SSE parsing of a GET stream: events with data
// (multi-line data joined), comments, and the priming event (empty data)
// not counted as an event.
func TestStreamRead(t *testing.T) {
	body := "id: 0_0\nretry: 3000\ndata: \n\n" +
		": keepalive\n\n" +
		"id: 0_1\nevent: message\ndata: {\"a\":1}\n\n" +
		"data: line1\r\ndata: line2\r\n\r\n"
	s := &Stream{br: bufio.NewReader(strings.NewReader(body))}
	var got []string
	if err := s.Read(func(d []byte) { got = append(got, string(d)) }); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, "line1\nline2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", got, want)
	}
	if s.Events() != 2 || s.Comments() != 1 {
		t.Errorf("events %d, comments %d; want 2 and 1", s.Events(), s.Comments())
	}
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt < 20; attempt++ {
		d := backoff(attempt, 0, time.Second)
		if d <= 0 || d > time.Second {
			t.Errorf("backoff(%d) = %v, want in (0, 1s]", attempt, d)
		}
	}
	if d := backoff(1, 5, time.Second); d != time.Second {
		t.Errorf("backoff with Retry-After 5s capped at 1s = %v", d)
	}
}
