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
