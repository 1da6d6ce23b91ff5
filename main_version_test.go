package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion checks the --version line for the builds there are: a
// checkout (vcs settings, (devel) or a pseudo-version), go install …@v
// (a version, no vcs settings), and no build info at all.
func TestVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"v0.1.0", vcs("vcs.revision", "abc1234def5678", "vcs.time", "2026-11-30T04:35:08Z", "vcs.modified", "true"), "mcpfiber v0.1.0 (commit abc1234, 2026-11-30, modified)"},
		{"(devel)", vcs("vcs.revision", "abc1234def5678", "vcs.time", "2026-11-30T04:35:08Z", "vcs.modified", "false"), "mcpfiber (devel) (commit abc1234, 2026-11-30)"},
		{"v0.1.0", nil, "mcpfiber v0.1.0"},
		{"", vcs("-buildmode", "exe"), "mcpfiber (devel)"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/mcpfiber/mcpfiber", Version: c.version}, Settings: c.settings}
		if got := version(bi, true); got != c.want {
			t.Errorf("version(%q, %v) = %q, want %q", c.version, c.settings, got, c.want)
		}
	}
	if got := version(nil, false); !strings.HasPrefix(got, "mcpfiber ") {
		t.Errorf("version without build info = %q", got)
	}
}

// TestBinaryVersion checks that the built binary prints one line for
// --version and exits 0.
func TestBinaryVersion(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("mcpfiber --version: %v", err)
	}
	if !regexp.MustCompile(`^mcpfiber \S+( \([^)]+\))?\n$`).Match(out) {
		t.Errorf("mcpfiber --version printed %q", out)
	}
}

// buildBinary builds the mcpfiber binary from this module into a
// temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcpfiber")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
