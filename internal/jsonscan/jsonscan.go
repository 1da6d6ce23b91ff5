// Package jsonscan reads JSON text a peer sent without decoding it: a
// cursor over the bytes that validates values as it skips them and hands
// out the raw bytes of strings, numbers and members.
//
// It is the fast path in front of [jsonrpc.Unmarshal] on the hot paths of
// a request (the params of tools/call, a tool's arguments checked against
// its schema), never a replacement: it says "ok" only for text that
// Unmarshal reads the same way, and "not sure" (ok == false) for anything
// unusual, after which the caller runs the full decoder, which has the
// last word and writes the errors. "Unusual" is deliberately broad:
// escapes in member names, \u escapes of surrogates, objects with more
// than [MaxMembers] members, nesting deeper than [MaxDepth], numbers out
// of float64's range. Everything it accepts is JSON (RFC 8259) in UTF-8
// with no object naming a member twice, as Unmarshal requires;
// FuzzScanner here, FuzzScanRequest in package jsonrpc and
// FuzzCallParams and FuzzStringArgument in package mcp hold it to that.
//
// A Scanner does not allocate.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Limits beyond which a Scanner gives up (ok == false) rather than
// deciding.
const (
	MaxDepth   = 64 // nesting of arrays and objects
	MaxMembers = 32 // members of one object (duplicates are checked pairwise)
)

// A Scanner is a cursor over JSON text. The zero value is not useful; set
// B (and I, the start, usually 0). It borrows B for as long as it is used
// and never writes to it.
type Scanner struct {
	B []byte
	I int
}

// SkipSpace moves past JSON whitespace.
func (s *Scanner) SkipSpace() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek skips whitespace and returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.SkipSpace()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// AtEnd skips whitespace and reports whether the text ends there.
func (s *Scanner) AtEnd() bool {
	s.SkipSpace()
	return s.I == len(s.B)
}

// String reads the string at the cursor (whitespace skipped). raw is its
// text between the quotes, still escaped, a subslice of B; escaped
// reports whether it holds a backslash. ok is false for text that is not
// a string or not valid UTF-8, and for \u escapes of surrogates (valid
// JSON, but left to the full decoder).
func (s *Scanner) String() (raw []byte, escaped, ok bool) {
	if s.Peek() != '"' {
		return nil, false, false
	}
	b := s.B
	start := s.I + 1
	i := start
	for {
		// Eight bytes at a time up to the first that is not plain:
		// below 0x20, '"', '\\' or beyond ASCII. Past the last eight
		// bytes of B, v reads zeros, which are not plain.
	words:
		for {
			var v uint64
			switch {
			case i+8 <= len(b):
				v = binary.LittleEndian.Uint64(b[i:])
			case i < len(b) && len(b) >= 8:
				v = binary.LittleEndian.Uint64(b[len(b)-8:]) >> (8 * (i + 8 - len(b)) & 63)
			default:
				break words
			}
			m := (v - lo*0x20) | ((v ^ lo*'"') - lo) | ((v ^ lo*'\\') - lo)
			if m = (m&^v | v) & hi; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		// Then a byte at a time, from the byte that stopped the loop
		// above, back to eight at a time after four plain bytes: the
		// runs between escapes are often short.
		for run := 0; run < 4; {
			if i >= len(b) {
				return nil, false, false
			}
			c := b[i]
			switch {
			case c == '"':
				s.I = i + 1
				return b[start:i], escaped, true
			case c == '\\':
				escaped = true
				run = 0
				if i+1 >= len(b) {
					return nil, false, false
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if i+6 > len(b) {
						return nil, false, false
					}
					var r rune
					for _, h := range b[i+2 : i+6] {
						switch {
						case '0' <= h && h <= '9':
							r = r<<4 | rune(h-'0')
						case 'a' <= h && h <= 'f':
							r = r<<4 | rune(h-'a'+10)
						case 'A' <= h && h <= 'F':
							r = r<<4 | rune(h-'A'+10)
						default:
							return nil, false, false
						}
					}
					if 0xD800 <= r && r <= 0xDFFF {
						return nil, false, false
					}
					i += 6
				default:
					return nil, false, false
				}
			case 0x20 <= c && c < utf8.RuneSelf:
				i++
				run++
			case c < 0x20:
				return nil, false, false
			default:
				run = 0
				r, n := utf8.DecodeRune(b[i:])
				if r == utf8.RuneError && n == 1 {
					return nil, false, false
				}
				i += n
			}
		}
	}
}

// lo and hi are the low and the high bit of each byte of a uint64. Of
// x - lo*n, a byte below n borrows from the next, so the high bits above
// it may lie; but the lowest high bit set in (x - lo*n) &^ x & hi is that
// of the first byte of x below n (below 0x80). String reads the bytes
// before the first it flags, with (x ^ lo*c) - lo for the bytes equal to
// c and x & hi for those beyond ASCII, as plain.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// Number reads the number at the cursor (whitespace skipped) and returns
// its text and its value. ok is false for text that is not a JSON number
// and for numbers beyond float64's range.
func (s *Scanner) Number() (raw []byte, f float64, ok bool) {
	return s.number(true)
}

// number is Number; without value it leaves f 0 and parses only the
// numbers that might be beyond float64's range, those with an exponent
// or more than 300 digits before the point.
func (s *Scanner) number(value bool) (raw []byte, f float64, ok bool) {
	s.SkipSpace()
	b := s.B
	i := s.I
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var u uint64 // the integer part, when it has at most 15 digits
	d := i
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			u = u*10 + uint64(b[i]-'0')
			i++
		}
	default:
		return nil, 0, false
	}
	digits := i - d
	frac := i < len(b) && b[i] == '.'
	if frac {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, 0, false
		}
	}
	exp := i < len(b) && (b[i] == 'e' || b[i] == 'E')
	if exp {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, 0, false
		}
	}
	raw = b[s.I:i]
	switch {
	case !frac && !exp && digits <= 15:
		// An integer below 10^15 < 2^53: a float64 holds it exactly.
		if value {
			f = float64(u)
			if neg {
				f = -f
			}
		}
	case value || exp || digits > 300:
		// Without an exponent, and with at most 300 digits before the
		// point, a number is below 10^300 and ParseFloat cannot fail:
		// Skip does not call it.
		var err error
		f, err = strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
		if err != nil {
			return nil, 0, false
		}
	}
	s.I = i
	return raw, f, true
}

// Literal reads true, false or null at the cursor (whitespace skipped)
// and returns its first byte ('t', 'f' or 'n').
func (s *Scanner) Literal() (byte, bool) {
	c := s.Peek()
	var lit string
	switch c {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	case 'n':
		lit = "null"
	default:
		return 0, false
	}
	if len(s.B)-s.I < len(lit) || string(s.B[s.I:s.I+len(lit)]) != lit {
		return 0, false
	}
	s.I += len(lit)
	return c, true
}

// Skip validates the value at the cursor (whitespace skipped) and moves
// past it; depth is the nesting of the value (0 for a top-level value).
func (s *Scanner) Skip(depth int) bool {
	switch s.Peek() {
	case '"':
		_, _, ok := s.String()
		return ok
	case '{':
		// nil: Skip calls itself for each member, not a closure.
		return s.Object(depth, nil)
	case '[':
		return s.Array(depth, nil)
	case 't', 'f', 'n':
		_, ok := s.Literal()
		return ok
	default:
		_, _, ok := s.number(false)
		return ok
	}
}

// Value validates the value at the cursor and returns its text, a
// subslice of B without surrounding whitespace.
func (s *Scanner) Value(depth int) ([]byte, bool) {
	s.SkipSpace()
	start := s.I
	if !s.Skip(depth) {
		return nil, false
	}
	return s.B[start:s.I], true
}

// Object reads the object at the cursor (whitespace skipped), calling
// member for each member with its name (raw, without escapes) and the
// cursor before its value; member must read the value from s (a closure
// over s: a Scanner passed to a func value would escape) and return true,
// or return false to stop; a nil member skips each value. It returns
// false for text that is not an object, a name with an escape, a name
// given twice, more than [MaxMembers] members, nesting beyond
// [MaxDepth], or when member does.
func (s *Scanner) Object(depth int, member func(name []byte) bool) bool {
	if depth >= MaxDepth || s.Peek() != '{' {
		return false
	}
	s.I++
	if s.Peek() == '}' {
		s.I++
		return true
	}
	// Room for the names of a small object, and for MaxMembers only
	// when it has more: most objects then clear 64 bytes, not 256.
	var names [8]span
	ok, full := s.members(depth, member, names[:0])
	if !full {
		return ok
	}
	var all [MaxMembers]span
	ok, _ = s.members(depth, member, all[:copy(all[:], names[:])])
	return ok
}

// A span is the start and end in B of a member name.
type span struct{ start, end int32 }

// members reads the members of an object from the cursor after its '{'
// or a ',', with the names seen before in names. It stops with full
// before a member when names has no room for its name (and may have
// more).
func (s *Scanner) members(depth int, member func(name []byte) bool, names []span) (ok, full bool) {
	for {
		if len(names) == cap(names) && cap(names) < MaxMembers {
			return false, true
		}
		name, escaped, ok := s.String()
		if !ok || escaped || len(names) == MaxMembers {
			return false, false
		}
		for _, seen := range names {
			if int(seen.end-seen.start) == len(name) && (len(name) == 0 || s.B[seen.start] == name[0]) && string(s.B[seen.start:seen.end]) == string(name) {
				return false, false
			}
		}
		end := s.I - 1
		names = append(names, span{int32(end - len(name)), int32(end)})
		if s.Peek() != ':' {
			return false, false
		}
		s.I++
		if member != nil {
			ok = member(name)
		} else {
			ok = s.Skip(depth + 1)
		}
		if !ok {
			return false, false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case '}':
			s.I++
			return true, false
		default:
			return false, false
		}
	}
}

// Array reads the array at the cursor (whitespace skipped), calling elem
// with the cursor before each element; elem must read it and return
// true, or return false to stop; a nil elem skips each element.
func (s *Scanner) Array(depth int, elem func() bool) bool {
	if depth >= MaxDepth || s.Peek() != '[' {
		return false
	}
	s.I++
	if s.Peek() == ']' {
		s.I++
		return true
	}
	for {
		var ok bool
		if elem != nil {
			ok = elem()
		} else {
			ok = s.Skip(depth + 1)
		}
		if !ok {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case ']':
			s.I++
			return true
		default:
			return false
		}
	}
}

// Unquote returns the string whose escaped text is raw (as [Scanner.String]
// returned it), allocating a new string. raw must come from String.
func Unquote(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			var r rune
			for _, h := range raw[i+1 : i+5] {
				switch {
				case h <= '9':
					r = r<<4 | rune(h-'0')
				case h >= 'a':
					r = r<<4 | rune(h-'a'+10)
				default:
					r = r<<4 | rune(h-'A'+10)
				}
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default: // '"', '\\', '/'
			out = append(out, raw[i])
		}
	}
	return string(out)
}

// RuneCount returns the number of code points of the string whose
// escaped text is raw (as [Scanner.String] returned it). It does not
// allocate.
func RuneCount(raw []byte) int {
	n := 0
	for i := 0; i < len(raw); n++ {
		switch c := raw[i]; {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			_, size := utf8.DecodeRune(raw[i:])
			i += size
		}
	}
	return n
}
