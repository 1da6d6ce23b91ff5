//go:build unix

package transport

import "syscall"

// openFileLimit returns the RLIMIT_NOFILE soft limit.
func openFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return uint64(lim.Cur), nil
}

func raiseOpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur+1 >= lim.Max { // there already, or where Go's start put it
		return uint64(lim.Cur), nil
	}
	want := lim
	want.Cur = want.Max
	err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	if gerr := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); gerr != nil && err == nil {
		err = gerr
	}
	return uint64(lim.Cur), err
}
