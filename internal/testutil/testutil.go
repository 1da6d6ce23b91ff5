// Package testutil holds the helpers the module's tests share: waiting on
// a condition instead of sleeping, and checking that no goroutine of the
// module outlives a package's tests.
//
// A package's leak check is its TestMain:
//
//	func TestMain(m *testing.M) { testutil.Main(m, "transport.(*Handler).writeSSE") }
//
// Where time matters, prefer testing/synctest to [WaitFor]: inside a bubble
// synctest.Wait says when every goroutine is blocked, with no polling.
package testutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
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
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for an event
	}
}

// Main runs m's tests and exits with their status. If they passed, it
// first waits up to 5 s for the goroutines that match markers (see
// [Leaked]) to end, and fails the run with their stacks if some do not:
// every goroutine the module starts has an owner and an exit.
func Main(m *testing.M, markers ...string) {
	code := m.Run()
	if code == 0 {
		if err := NoLeaks(5*time.Second, markers...); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Check registers a cleanup, run after the cleanups registered later
// (servers shut down, clients closed), that fails t if goroutines that
// match markers are still alive 5 s on. A test that uses it must not run
// in parallel with others.
func Check(t testing.TB, markers ...string) {
	t.Helper()
	t.Cleanup(func() {
		if err := NoLeaks(5*time.Second, markers...); err != nil {
			t.Error(err)
		}
	})
}

// NoLeaks waits up to d until [Leaked] finds no goroutine for markers, and
// returns an error with the stacks of those still running then.
func NoLeaks(d time.Duration, markers ...string) error {
	deadline := time.Now().Add(d)
	for {
		leaked := Leaked(markers...)
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting for an event
	}
}

// Leaked returns, sorted, the stacks of the live goroutines that contain
// one of markers (function names such as "sessions.(*Map).sweep", or
// package paths such as "github.com/valyala/fasthttp"). It leaves out the
// test framework's goroutines (the running tests, paused parallel ones,
// the main one) and those of [Goroutines].
func Leaked(markers ...string) []string {
	var leaked []string
	for _, g := range Goroutines() {
		if strings.Contains(g, "testing.tRunner(") || strings.Contains(g, "testing.(*M).") ||
			strings.Contains(g, "internal/testutil.Leaked(") {
			continue
		}
		if slices.ContainsFunc(markers, func(m string) bool { return strings.Contains(g, m) }) {
			leaked = append(leaked, g)
		}
	}
	slices.Sort(leaked)
	return leaked
}

// lifelong are goroutines that outlive servers by design:
//   - fasthttp's Date-header updater runs for the life of the process;
//   - fasthttp's worker-pool cleaner sleeps MaxIdleWorkerDuration (10 s,
//     which Fiber v2 does not let us set) between checks of its stop
//     channel, so it exits up to 10 s after its server stopped.
var lifelong = []string{
	"github.com/valyala/fasthttp.updateServerDate",
	"github.com/valyala/fasthttp.(*workerPool).Start.func",
}

// Goroutines returns the stacks of the live goroutines, without those that
// outlive servers by design (fasthttp's Date updater and worker-pool
// cleaner), which come and go on their own schedule. Its length is a
// goroutine count that tests can compare before and after a server.
func Goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !slices.ContainsFunc(lifelong, func(e string) bool { return strings.Contains(g, e) }) {
			gs = append(gs, g)
		}
	}
	return gs
}

// Start starts the program name with args and returns it with a channel
// of its stderr lines, closed when its stderr closes. The process is
// killed when t ends, if it is still running.
func Start(t testing.TB, name string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 64)
	go func() { // owner: the test; exit: the process's stderr closes
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}
