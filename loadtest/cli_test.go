package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain runs the command's main instead of the tests when
// LOADTEST_MAIN_ARGS is set (its arguments, separated by \x1f), so that
// a test can check the exit status of the command itself.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("LOADTEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"loadtest"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// runMain runs the command as a process with args and returns its exit
// code, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOADTEST_MAIN_ARGS="+strings.Join(args, "\x1f"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestDownTarget checks that a target nobody listens on fails the
// command at once, with a message that says so and a non-zero exit,
// rather than a run of "connection refused" operations.
func TestDownTarget(t *testing.T) {
	addr := freeAddr(t) // closed again: nothing listens there
	url := "http://" + addr + "/mcp"
	start := time.Now()
	code, stdout, stderr := runMain(t, "--url", url, "--progress=false", "miss")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the command took %v to give up on a down target, want < 5s", took)
	}
	want := "loadtest: " + url + " is not answering: dial tcp " + addr + ": connect: connection refused"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
	if stdout != "" {
		t.Errorf("results printed for a run that did not happen:\n%s", stdout)
	}
	// Every scenario checks first; those that restart servers need
	// --server-cmd, and say so before anything else.
	for _, s := range scenarioNames() {
		start := time.Now()
		_, err := run(context.Background(), []string{"--url", url, "--progress=false", s}, io.Discard, io.Discard)
		want := url + " is not answering"
		if nodesScenario(s) {
			want = s + ": --server-cmd is required"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s against a down target: error %v, want %q", s, err, want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s took %v to give up", s, took)
		}
	}
}

// TestEveryOperationFailed checks that a run in which the target answers
// but no operation succeeds prints its results and exits non-zero.
func TestEveryOperationFailed(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "{}") // 200 to everything: miss wants 404
	}))
	defer ts.Close()
	var stdout bytes.Buffer
	res, err := run(context.Background(), []string{"--url", ts.URL + "/mcp", "--progress=false", "miss", "--count", "30", "--format", "json"}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "every operation failed (30 of 30)") {
		t.Errorf("error %v, want every operation failed (30 of 30)", err)
	}
	if res == nil || res.Requests != 30 || !strings.Contains(stdout.String(), `"type":"summary"`) {
		t.Errorf("the results were not printed: %+v\n%s", res, stdout.String())
	}
	code, _, stderr := runMain(t, "--url", ts.URL+"/mcp", "--progress=false", "miss", "--count", "10", "--format", "json")
	if code != 1 || !strings.Contains(stderr, "loadtest: every operation failed (10 of 10)") {
		t.Errorf("exit %d, stderr %q; want exit 1 and every operation failed", code, stderr)
	}
}

// TestUsageListsScenarios checks that -h describes each scenario.
func TestUsageListsScenarios(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parse([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse(-h) = %v, want flag.ErrHelp", err)
	}
	for _, s := range scenarios {
		if !regexp.MustCompile(`(?m)^  ` + s.name + ` +\S`).MatchString(stderr.String()) {
			t.Errorf("-h has no line for %s:\n%s", s.name, stderr.String())
		}
	}
}
