//go:build unix

package main

import (
	"bytes"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestMakeRunSIGTERM runs `make run` in a process group of its own and
// sends SIGTERM to make alone, as a supervisor or a terminal does: the
// server must get it, shut down, release the port and leave nothing
// running (with `go run` in the recipe it was orphaned, holding the port).
// It builds bin/mcpfiber, as make run does.
func TestMakeRunSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/mcpfiber")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command("make", "--no-print-directory", "run", "ADDR="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	output := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // owner: the test; exit: make exits
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever the test left, in the group it started
		if t.Failed() {
			t.Logf("make run output:\n%s", output())
		}
	})

	testutil.WaitFor(t, 2*time.Minute, func() error { // a cold build takes a while
		select {
		case err := <-exited:
			t.Fatalf("make run exited early: %v", err)
		default:
		}
		if !strings.Contains(output(), `msg="mcpfiber listening"`) {
			return errors.New("not listening yet")
		}
		return nil
	})
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	} else {
		c.Close()
	}

	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil { // make only
		t.Fatal(err)
	}
	select {
	case <-exited: // make re-raises SIGTERM once the server exits: a non-nil error
	case <-time.After(30 * time.Second):
		t.Fatal("make run still running 30s after SIGTERM")
	}
	if !strings.Contains(output(), "msg=stopped") {
		t.Error("the server did not log msg=stopped: it did not get SIGTERM")
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			return errors.New("processes of make run's group still running: " + strconv.Itoa(pgid))
		}
		return nil
	})
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is still held: %v", err)
	}
	ln2.Close()
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
