package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkMiss/server=floor/method=POST-2         	  371343	     10045 ns/op	     99556 req/s	       0 B/op	       0 allocs/op
BenchmarkMiss/server=mcpfiber/method=POST-2      	  348998	     10619 ns/op	     94168 req/s	      20 B/op	       0 allocs/op
BenchmarkMiss/server=mcpfiber/method=POST-2      	  348998	     10619 ns/op	     96168 req/s	      20 B/op	       0 allocs/op
BenchmarkMiss/server=mcpfiber/method=POST-2      	  348998	     10619 ns/op	     90000 req/s	      20 B/op	       0 allocs/op
BenchmarkHandshake/server=mcpfiber-2         	   71919	     34331 ns/op	     30000 handshakes/s	    2314 B/op	      43 allocs/op
BenchmarkHandshake/server=gosdk-2            	    5715	    446227 ns/op	      2000 handshakes/s	  346453 B/op	     263 allocs/op
BenchmarkHandshake/server=mcpgo-2            	   29544	    112216 ns/op	     10000 handshakes/s	   26380 B/op	     263 allocs/op
BenchmarkStorm/server=mcpfiber/clients=10000-2         	       1	1093705077 ns/op	         1.000 404-per-client-max	         1.000 404-per-client-min	         0 failures	       702.5 p50-ms	       783.4 p99-ms	       787.5 recovery-ms	     10000 wasted-req	66680248 B/op	  799736 allocs/op
BenchmarkStorm/server=gosdk/clients=10000-2            	       1	6649331384 ns/op	         1.000 404-per-client-max	         1.000 404-per-client-min	         0 failures	      3445 p50-ms	      4243 p99-ms	      4246 recovery-ms	     10000 wasted-req	31524560 B/op	  405822 allocs/op
BenchmarkMemory/server=mcpfiber/sessions=1000-2  	       1	 351847588 ns/op	       720.9 B/idle-session	     31340 B/sse-stream	         2.000 goroutines/sse-stream	 7431936 B/op	   68696 allocs/op
PASS
`

func TestParseAndTabulate(t *testing.T) {
	rs := parse([]byte(sample))
	if len(rs) != 10 {
		t.Fatalf("parse: %d results, want 10", len(rs))
	}
	tb := tabulate(rs)
	if got := tb.values["Miss/method=POST"]["req/s"]["mcpfiber"]; got != 94168 {
		t.Errorf("median req/s of mcpfiber = %v, want 94168 (the median of three)", got)
	}
	if _, ok := tb.values["Storm/clients=10000"]["ns/op"]; ok {
		t.Error("storm ns/op is shown; it times the whole harness")
	}
	var md bytes.Buffer
	writeReport(&md, rs, "abc1234", []string{"go test"}, nil)
	out := md.String()
	for _, want := range []string{
		"mcpfiber at commit abc1234",
		"| miss POST | ≥0.90× floor, 0 allocs/op | 0.95× floor",
		"| handshake | ≥3× gosdk, ahead of mcpgo | 15.00× gosdk (passes 15.00–15.00), 3.00× mcpgo (3.00–3.00) | met |",
		"| 5.39× faster (passes 5.39–5.39; medians 787.5 ms vs gosdk 4246.0 ms); 404s per client 1–1; wasted 10000 for 10000 clients; failures 0 | met |",
		"| memory per open SSE stream | ≤8192 B | 31340 B",
		"| Handshake | handshakes/s | ↑ | — | 30000 | 2000 | 10000 | 15.00× | 3.00× | — |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestPairedRatio checks that a ratio is taken within each pass: here the
// medians of each side (100 vs 110) would say 0.91, while every pass has
// mcpfiber at 0.95 of the floor or better.
func TestPairedRatio(t *testing.T) {
	const passes = `BenchmarkMiss/server=floor/method=GET-2 1 1 ns/op 100 req/s
BenchmarkMiss/server=mcpfiber/method=GET-2 1 1 ns/op 95 req/s
BenchmarkMiss/server=floor/method=GET-2 1 1 ns/op 120 req/s
BenchmarkMiss/server=mcpfiber/method=GET-2 1 1 ns/op 118 req/s
BenchmarkMiss/server=floor/method=GET-2 1 1 ns/op 110 req/s
BenchmarkMiss/server=mcpfiber/method=GET-2 1 1 ns/op 100 req/s
`
	tb := tabulate(parse([]byte(passes)))
	r, lo, hi, ok := tb.pairedRatio("Miss/method=GET", "req/s", "mcpfiber", "floor")
	if !ok || r != 0.95 || lo != 100.0/110 || hi != 118.0/120 {
		t.Errorf("pairedRatio = %v (%v–%v, %v), want 0.95 (0.909–0.983)", r, lo, hi, ok)
	}
	if _, _, _, ok := tb.pairedRatio("Miss/method=GET", "req/s", "mcpfiber", "gosdk"); ok {
		t.Error("pairedRatio with a server that has no samples: ok")
	}
}
