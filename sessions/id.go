package sessions

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// IDLen is the length of a session ID: 32 lowercase hex digits (128 bits).
const IDLen = 32

// NewID returns a new session ID: 128 bits from crypto/rand as 32 lowercase
// hex digits, within the visible ASCII range the spec requires
// (2025-11-25 basic/transports §Session Management: "only visible ASCII
// characters (ranging from 0x21 to 0x7E)").
func NewID() string {
	var b [IDLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	var s [IDLen]byte
	hex.Encode(s[:], b[:])
	return string(s[:])
}

// ValidID reports whether id has the shape [NewID] gives. It neither
// retains id nor allocates.
func ValidID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// AppendEventID appends the event ID "<stream>_<seq>" to dst. It allocates
// only to grow dst.
func AppendEventID(dst []byte, stream, seq uint64) []byte {
	dst = strconv.AppendUint(dst, stream, 10)
	dst = append(dst, '_')
	return strconv.AppendUint(dst, seq, 10)
}

// maxEventIDLen bounds a Last-Event-ID: two 20-digit numbers and '_'.
const maxEventIDLen = 41

// ParseEventID parses an event ID made by [AppendEventID], as it comes in a
// Last-Event-ID header. ok is false for anything else (empty, too long,
// signs, spaces, leading zeros, overflow). It neither retains b nor
// allocates.
func ParseEventID(b []byte) (stream, seq uint64, ok bool) {
	if len(b) == 0 || len(b) > maxEventIDLen {
		return 0, 0, false
	}
	i := 0
	for i < len(b) && b[i] != '_' {
		i++
	}
	if i == len(b) {
		return 0, 0, false
	}
	stream, ok = parseUint(b[:i])
	if !ok {
		return 0, 0, false
	}
	seq, ok = parseUint(b[i+1:])
	return stream, seq, ok
}

func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
