package transport

import (
	"crypto/tls"
	"net"
	"syscall"
)

// peerGone reports whether the client of a GET stream's connection has
// hung up: the connection reads end-of-file or an error at once, or, for
// TLS, has bytes to read (a GET stream's client sends nothing after its
// request but its close_notify alert). It peeks without blocking and
// without consuming anything (recv with MSG_PEEK|MSG_DONTWAIT), so a live
// stream is not disturbed; one system call, no allocation, no goroutine.
// It reports false when it cannot tell (a connection that is not a
// socket, a platform without the probe).
//
// The connection must have no read deadline in the past: the probe runs
// through the runtime's poller, which fails at once on an expired one
// (sseConn.start clears it).
func peerGone(c net.Conn) bool {
	secure := false
	for {
		switch x := c.(type) {
		case *deadlineConn:
			c = x.Conn
			continue
		case *tls.Conn:
			c, secure = x.NetConn(), true
			continue
		case syscall.Conn:
			rc, err := x.SyscallConn()
			if err != nil {
				return true // closed already
			}
			return probeHangup(rc, secure)
		}
		return false
	}
}
