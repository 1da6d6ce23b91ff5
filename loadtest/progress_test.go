package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the bar's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var opsPerSecond = regexp.MustCompile(`(\d+) op/s`)

// TestProgressFirstReading checks that the bar's first rate is what was
// done over the time since the bar started, not over the instant of its
// first reading (which made it read 23017003 op/s).
func TestProgressFirstReading(t *testing.T) {
	var done atomic.Int64
	done.Store(10_000) // all of it before the first reading, which comes ≥ 100ms after the start
	var stderr syncBuffer
	p := newBar(&config{scenario: "miss", progress: true, count: 20_000}, &stderr, &done)
	time.Sleep(250 * time.Millisecond)
	p.stop()
	out := stderr.String()
	rates := opsPerSecond.FindAllStringSubmatch(out, -1)
	if len(rates) == 0 {
		t.Fatalf("no rate in the bar: %q", out)
	}
	for i, m := range rates {
		r, _ := strconv.Atoi(m[1])
		if r <= 0 || r > 100_000 {
			t.Errorf("reading %d: %d op/s, want 0 < rate ≤ 100000 (10000 ops in ≥ 100ms)", i, r)
		}
	}
	// The run did half of what it had to: the last reading says so.
	if !strings.Contains(out, "10000/20000") || strings.Contains(out, "100%") {
		t.Errorf("the last reading should stay at 10000/20000 (50%%), not 100%%: %q", out)
	}
}

// TestStormBarReaches100 checks that the storm's bar ends at 100% and
// stays on screen.
func TestStormBarReaches100(t *testing.T) {
	srv := startServer(t)
	var stdout bytes.Buffer
	var stderr syncBuffer
	_, err := run(context.Background(), []string{"--url", srv.URL(), "--progress", "storm", "--clients", "50", "--format", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if !strings.Contains(last, "100%") || !strings.Contains(last, "(100/100") {
		t.Errorf("the storm bar's last reading is %q, want 100%% (100/100)", last)
	}
}
