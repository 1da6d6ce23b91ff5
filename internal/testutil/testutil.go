// Package testutil holds the helpers the module's tests share: waiting on
// a condition instead of sleeping, and checking that no goroutine of the
// module outlives a package's tests.
package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// WaitFor polls cond every 5 ms until it returns nil; if that has not
// happened within d, it fails t with cond's last error.
func WaitFor(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", d, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// NoLeaks waits up to d until no goroutine's stack contains any of
// markers (function names such as "sessions.(*Map).sweep"), and returns an
// error with the stacks of those still running then.
func NoLeaks(d time.Duration, markers ...string) error {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, m := range markers {
				if strings.Contains(g, m) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaked %d goroutines:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
