package main

import (
	"runtime/debug"
	"strings"
)

// version describes the binary from its build info: the main module's
// version ((devel) when built from a checkout without a tag; go install
// …@v0.1.0 gives v0.1.0) and, when the build recorded them, the commit, its
// date and whether the work tree had changes, e.g.
//
//	mcpfiber v0.1.0 (commit abc1234, 2026-11-30, modified)
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "mcpfiber (unknown version: no build info)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, date string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			date, _, _ = strings.Cut(s.Value, "T") // RFC 3339: the day is enough
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "commit "+rev[:min(len(rev), 7)])
	}
	if date != "" {
		extra = append(extra, date)
	}
	if modified {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return "mcpfiber " + v
	}
	return "mcpfiber " + v + " (" + strings.Join(extra, ", ") + ")"
}
