package main

import (
	"context"
	"testing"

	"github.com/mcpfiber/mcpfiber/bench"
	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

func TestParseStat(t *testing.T) {
	line := []byte("4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 5 0 100 1000 200 18446744073709551615\n")
	got, err := parseStat(line)
	if err != nil || got != 1234+567 {
		t.Fatalf("parseStat(…) = %d, %v, want %d, nil", got, err, 1234+567)
	}
	if _, err := parseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatalf("parseStat(short line) = nil error, want one")
	}
}

// TestFloor200 checks that the call floor answers a handshake, a call and
// a DELETE as the load client expects, and the 404 floor a miss.
func TestFloor200(t *testing.T) {
	for _, name := range []string{bench.Floor200, bench.Floor} {
		tg, err := bench.Start(name, bench.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		cl, err := load.NewClient(tg.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &config{concurrency: 2}
		fig := "miss"
		if name == bench.Floor200 {
			fig = "call"
			if op, err := c.newOp(context.Background(), "handshake", cl); err != nil {
				t.Fatal(err)
			} else if ok, status := op(context.Background(), 0, 0); !ok {
				t.Fatalf("%s: handshake = %s, want ok", name, status)
			}
		}
		op, err := c.newOp(context.Background(), fig, cl)
		if err != nil {
			t.Fatal(err)
		}
		for seq := range int64(3) {
			if ok, status := op(context.Background(), 0, seq); !ok {
				t.Fatalf("%s: %s op %d = %s, want ok", name, fig, seq, status)
			}
		}
	}
}

// TestSpread checks the median, quartiles and range against Python's
// statistics.quantiles (method "exclusive").
func TestSpread(t *testing.T) {
	xs := []float64{7, 1, 3, 9, 5, 2, 8, 4, 6, 10}
	s, ok := spreadOf(xs)
	if !ok || s.med != 5.5 || s.q1 != 2.75 || s.q3 != 8.25 || s.lo != 1 || s.hi != 10 {
		t.Fatalf("spreadOf(%v) = %+v, want median 5.5, quartiles 2.75 and 8.25, range 1–10", xs, s)
	}
	if got, want := s.format("%.2f"), "5.50 (quartiles 2.75–8.25, range 1.00–10.00)"; got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
	if got, want := (spread{n: 3, med: 2, lo: 1, hi: 3}).format("%.0f"), "2 (1–3)"; got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
}
