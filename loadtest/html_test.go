package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// externalRef matches anything in a page that a browser would fetch from
// the network.
var externalRef = regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed)\b[^>]*\b(src|href|data)\s*=\s*["']?\s*(https?:)?//`)

// TestHTMLOffline checks that the HTML report has its charts inline and
// loads nothing from the network.
func TestHTMLOffline(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	runCmd(t, context.Background(), srv.URL(), "miss", "--duration", "300ms", "--window", "50ms", "--html", path, "--format", "json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("report.html loads %q from the network", m)
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("report.html has a script; the charts must be inline SVG")
	}
	for _, want := range []string{"Latency over time", "Throughput over time", "Latency histogram", ">p99<", "404 -32001"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("report.html has %d inline SVG charts, want 3", n)
	}

	// A storm has no windows: the histogram alone, and a sentence.
	path = filepath.Join(dir, "storm.html")
	runCmd(t, context.Background(), srv.URL(), "storm", "--clients", "20", "--html", path, "--format", "json")
	if b, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if m := externalRef.FindString(string(b)); m != "" {
		t.Errorf("storm.html loads %q from the network", m)
	}
	if n := strings.Count(string(b), "<svg"); n != 1 || !strings.Contains(string(b), "No charts over time") {
		t.Errorf("storm.html: %d SVG charts, want the histogram alone and a sentence saying why", n)
	}
}

// TestExternalRef checks the pattern TestHTMLOffline relies on.
func TestExternalRef(t *testing.T) {
	for _, s := range []string{
		`<script src="https://go-echarts.github.io/go-echarts-assets/assets/echarts.min.js"></script>`,
		`<link href="http://example.com/a.css" rel="stylesheet">`,
		`<script type="text/javascript" src='//cdn.example/x.js'>`,
	} {
		if !externalRef.MatchString(s) {
			t.Errorf("externalRef misses %s", s)
		}
	}
	for _, s := range []string{`<svg xmlns="http://www.w3.org/2000/svg">`, `<h1>loadtest miss → http://127.0.0.1:8080/mcp</h1>`} {
		if externalRef.MatchString(s) {
			t.Errorf("externalRef matches %s", s)
		}
	}
}
