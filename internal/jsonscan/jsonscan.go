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
	for i := start; i < len(b); {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.I = i + 1
			return b[start:i], escaped, true
		case c == '\\':
			escaped = true
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
		case c < 0x20:
			return nil, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, false
			}
			i += n
		}
	}
	return nil, false, false
}

// plain holds the bytes that stand for themselves in a string: ASCII
// other than control characters, '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Number reads the number at the cursor (whitespace skipped) and returns
// its text and its value. ok is false for text that is not a JSON number
// and for numbers beyond float64's range.
func (s *Scanner) Number() (raw []byte, f float64, ok bool) {
	s.SkipSpace()
	b := s.B
	i := s.I
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
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
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
	if err != nil {
		return nil, 0, false
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
		return s.Object(depth, func([]byte) bool { return s.Skip(depth + 1) })
	case '[':
		return s.Array(depth, func() bool { return s.Skip(depth + 1) })
	case 't', 'f', 'n':
		_, ok := s.Literal()
		return ok
	default:
		_, _, ok := s.Number()
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
// or return false to stop. It returns false for text that is not an
// object, a name with an escape, a name given twice, more than
// [MaxMembers] members, nesting beyond [MaxDepth], or when member does.
func (s *Scanner) Object(depth int, member func(name []byte) bool) bool {
	if depth >= MaxDepth || s.Peek() != '{' {
		return false
	}
	s.I++
	var names [MaxMembers][2]int32 // start and end of each name seen, in B
	n := 0
	if s.Peek() == '}' {
		s.I++
		return true
	}
	for {
		name, escaped, ok := s.String()
		if !ok || escaped || n == MaxMembers {
			return false
		}
		for _, seen := range names[:n] {
			if int(seen[1]-seen[0]) == len(name) && (len(name) == 0 || s.B[seen[0]] == name[0]) && string(s.B[seen[0]:seen[1]]) == string(name) {
				return false
			}
		}
		end := s.I - 1
		names[n] = [2]int32{int32(end - len(name)), int32(end)}
		n++
		if s.Peek() != ':' {
			return false
		}
		s.I++
		if !member(name) {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case '}':
			s.I++
			return true
		default:
			return false
		}
	}
}

// Array reads the array at the cursor (whitespace skipped), calling elem
// with the cursor before each element; elem must read it and return
// true, or return false to stop.
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
		if !elem() {
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
