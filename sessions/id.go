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

// A Cursor is a position in the broadcast log of the nodes sharing a
// store ([BroadcastLog]): the ID "<Ms>-<Seq>" of the last broadcast
// entry taken into account. The zero Cursor means none (unknown, or a
// broadcast that is not in the log); {1, 0} is the position before every
// entry.
type Cursor struct{ Ms, Seq uint64 }

// IsZero reports whether c is the zero Cursor: none.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// Less reports whether c comes before d in the log.
func (c Cursor) Less(d Cursor) bool { return c.Ms < d.Ms || c.Ms == d.Ms && c.Seq < d.Seq }

// AppendCursor appends c as a Redis Stream entry ID, "<Ms>-<Seq>". It
// allocates only to grow dst.
func AppendCursor(dst []byte, c Cursor) []byte {
	dst = strconv.AppendUint(dst, c.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, c.Seq, 10)
}

// ParseCursor parses "<Ms>-<Seq>" as [AppendCursor] writes it. It does
// not allocate.
func ParseCursor(b []byte) (c Cursor, ok bool) {
	i := 0
	for i < len(b) && b[i] != '-' {
		i++
	}
	if i == len(b) {
		return Cursor{}, false
	}
	if c.Ms, ok = parseUint(b[:i]); !ok {
		return Cursor{}, false
	}
	if c.Seq, ok = parseUint(b[i+1:]); !ok {
		return Cursor{}, false
	}
	return c, true
}

// AppendEventIDCursor appends the event ID "<stream>_<seq>_<Ms>-<Seq>"
// to dst: an event of a GET stream when the nodes share a broadcast log,
// with the log position its stream had taken into account when it was
// appended (see [Stream.AppendHeld]); a zero c is left out, as
// [AppendEventID] would. It allocates only to grow dst.
func AppendEventIDCursor(dst []byte, stream, seq uint64, c Cursor) []byte {
	dst = AppendEventID(dst, stream, seq)
	if c.IsZero() {
		return dst
	}
	dst = append(dst, '_')
	return AppendCursor(dst, c)
}

// maxEventIDLen bounds a Last-Event-ID: four 20-digit numbers, '_', '_'
// and '-'.
const maxEventIDLen = 83

// ParseEventID parses an event ID made by [AppendEventID] or
// [AppendEventIDCursor] (whose cursor it ignores), as it comes in a
// Last-Event-ID header. ok is false for anything else (empty, too long,
// signs, spaces, leading zeros, overflow). It neither retains b nor
// allocates.
func ParseEventID(b []byte) (stream, seq uint64, ok bool) {
	stream, seq, _, ok = ParseEventIDCursor(b)
	return stream, seq, ok
}

// ParseEventIDCursor is [ParseEventID] that also returns the cursor of
// an ID made by [AppendEventIDCursor]; c is zero for an ID without one.
// It neither retains b nor allocates.
func ParseEventIDCursor(b []byte) (stream, seq uint64, c Cursor, ok bool) {
	if len(b) == 0 || len(b) > maxEventIDLen {
		return 0, 0, Cursor{}, false
	}
	i := 0
	for i < len(b) && b[i] != '_' {
		i++
	}
	if i == len(b) {
		return 0, 0, Cursor{}, false
	}
	if stream, ok = parseUint(b[:i]); !ok {
		return 0, 0, Cursor{}, false
	}
	rest := b[i+1:]
	j := 0
	for j < len(rest) && rest[j] != '_' {
		j++
	}
	if seq, ok = parseUint(rest[:j]); !ok {
		return 0, 0, Cursor{}, false
	}
	if j == len(rest) {
		return stream, seq, Cursor{}, true
	}
	if c, ok = ParseCursor(rest[j+1:]); !ok || c.IsZero() {
		return 0, 0, Cursor{}, false
	}
	return stream, seq, c, true
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
