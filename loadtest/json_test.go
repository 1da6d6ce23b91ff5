package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestJSONRounded checks that every number in the JSON lines has at most
// three decimals, as the times in milliseconds and seconds always had.
func TestJSONRounded(t *testing.T) {
	srv := startServer(t)
	pid := strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		{"miss", "--duration", "300ms", "--window", "70ms"},
		{"call", "--rate", "500", "--duration", "300ms", "--window", "70ms"},
		{"sse", "--streams", "5", "--duration", "150ms", "--pid", pid},
		{"storm", "--clients", "20"},
		{"churn", "--rate", "100", "--duration", "250ms", "--pid", pid},
	} {
		_, out := runCmd(t, context.Background(), srv.URL(), append(args, "--format", "json")...)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %q: %v", args[0], line, err)
			}
			walkNumbers(v, "", func(path string, n json.Number) {
				if i := strings.IndexByte(string(n), '.'); i >= 0 && len(n)-i-1 > 3 || strings.ContainsAny(string(n), "eE") {
					t.Errorf("%s: %s = %s, want at most 3 decimals", args[0], path, n)
				}
			})
		}
	}
}

func walkNumbers(v any, path string, f func(string, json.Number)) {
	switch v := v.(type) {
	case json.Number:
		f(path, v)
	case map[string]any:
		for k, e := range v {
			walkNumbers(e, path+"."+k, f)
		}
	case []any:
		for i, e := range v {
			walkNumbers(e, path+"["+strconv.Itoa(i)+"]", f)
		}
	}
}
