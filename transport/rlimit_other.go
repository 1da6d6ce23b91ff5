//go:build !unix

package transport

import "errors"

var errNoRlimit = errors.New("transport: no RLIMIT_NOFILE on this system")

func openFileLimit() (uint64, error) { return 0, errNoRlimit }

func raiseOpenFileLimit() (uint64, error) { return 0, errNoRlimit }
