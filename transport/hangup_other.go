//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package transport

import "syscall"

// probeHangup cannot tell on this platform: a dead GET stream is noticed
// when a write to it fails.
func probeHangup(syscall.RawConn, bool) bool { return false }
