//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package transport

import "syscall"

// probeHangup peeks at the socket behind rc without blocking (see
// peerGone). data reports whether readable bytes count as a hang-up.
func probeHangup(rc syscall.RawConn, data bool) bool {
	var buf [1]byte
	gone := false
	err := rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR: // nothing to read: alive
		case err != nil: // reset, or another error: the connection is no use
			gone = true
		case n == 0: // end of file: the client closed its side
			gone = true
		default: // bytes to read
			gone = data
		}
		return true // done: never wait for readability
	})
	return gone || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}
