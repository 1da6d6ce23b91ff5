package sessions

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q is not valid", id)
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x21 || id[i] > 0x7e {
				t.Fatalf("NewID() = %q has a byte outside visible ASCII", id)
			}
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"00000000000000000000000000000000", true},
		{"ffffffffffffffffffffffffffffffff", true},
		{"", false},
		{"0123456789abcdef0123456789abcde", false},   // 31
		{"0123456789abcdef0123456789abcdef0", false}, // 33
		{"0123456789ABCDEF0123456789abcdef", false},  // uppercase
		{"0123456789abcdeg0123456789abcdef", false},
		{"0123456789abcdef 123456789abcdef", false},
		{"0123456789abcdef-123456789abcdef", false},
		{"0123456789abcdef\x00123456789abcdef", false},
		{"0123456789abcdef0123456789abcd\u00e9", false}, // 32 bytes, not hex
		{"01234567-89ab-cdef-0123-456789abcdef", false}, // a UUID
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestEventID(t *testing.T) {
	valid := []struct {
		s           string
		stream, seq uint64
	}{
		{"0_0", 0, 0},
		{"0_1", 0, 1},
		{"1_2", 1, 2},
		{"42_1000000", 42, 1000000},
		{"18446744073709551615_18446744073709551615", math.MaxUint64, math.MaxUint64},
	}
	for _, tt := range valid {
		stream, seq, ok := ParseEventID([]byte(tt.s))
		if !ok || stream != tt.stream || seq != tt.seq {
			t.Errorf("ParseEventID(%q) = %d, %d, %v; want %d, %d, true", tt.s, stream, seq, ok, tt.stream, tt.seq)
		}
		if got := string(AppendEventID(nil, tt.stream, tt.seq)); got != tt.s {
			t.Errorf("AppendEventID(%d, %d) = %q, want %q", tt.stream, tt.seq, got, tt.s)
		}
	}
	for _, s := range []string{
		"", "_", "1", "1_", "_1", "1__2", "1_2_3", "01_1", "1_01", "00_0",
		"+1_2", "-1_2", "1_-2", " 1_2", "1_2 ", "1 _2", "1_2\n", "a_1", "1_b", "0x1_1",
		"18446744073709551616_1", "1_18446744073709551616", "99999999999999999999_1",
		"1_" + strings.Repeat("1", 39), // too long
		"1.5_2", "1_2.0", "١_٢",        // Arabic-Indic digits
	} {
		if stream, seq, ok := ParseEventID([]byte(s)); ok {
			t.Errorf("ParseEventID(%q) = %d, %d, true; want false", s, stream, seq)
		}
	}
	if got := string(AppendEventID([]byte("id: "), 3, 4)); got != "id: 3_4" {
		t.Errorf("AppendEventID appends: %q", got)
	}
}

func TestEventIDCursor(t *testing.T) {
	valid := []struct {
		s           string
		stream, seq uint64
		c           Cursor
	}{
		{"0_0", 0, 0, Cursor{}},
		{"4294967296_7", 1 << 32, 7, Cursor{}},
		{"4294967296_7_1764460800000-3", 1 << 32, 7, Cursor{1764460800000, 3}},
		{"1_0_1-0", 1, 0, Cursor{1, 0}},
		{"0_0_0-1", 0, 0, Cursor{0, 1}},
		{"18446744073709551615_18446744073709551615_18446744073709551615-18446744073709551615",
			math.MaxUint64, math.MaxUint64, Cursor{math.MaxUint64, math.MaxUint64}},
	}
	for _, tt := range valid {
		stream, seq, c, ok := ParseEventIDCursor([]byte(tt.s))
		if !ok || stream != tt.stream || seq != tt.seq || c != tt.c {
			t.Errorf("ParseEventIDCursor(%q) = %d, %d, %v, %v; want %d, %d, %v, true", tt.s, stream, seq, c, ok, tt.stream, tt.seq, tt.c)
		}
		if stream, seq, ok := ParseEventID([]byte(tt.s)); !ok || stream != tt.stream || seq != tt.seq {
			t.Errorf("ParseEventID(%q) = %d, %d, %v; want %d, %d, true", tt.s, stream, seq, ok, tt.stream, tt.seq)
		}
		if got := string(AppendEventIDCursor(nil, tt.stream, tt.seq, tt.c)); got != tt.s {
			t.Errorf("AppendEventIDCursor(%d, %d, %v) = %q, want %q", tt.stream, tt.seq, tt.c, got, tt.s)
		}
	}
	for _, s := range []string{
		"1_2_", "1_2_3", "1_2_3-", "1_2_-3", "1_2_0-0", "1_2_01-1", "1_2_1-01", "1_2_1-2-3",
		"1_2_1_2", "1_2_1-2_3", "1_2__1-2", "1_2_+1-2", "1_2_1-2 ", "1_2_1-18446744073709551616",
		"1_2_" + strings.Repeat("1", 20) + "-" + strings.Repeat("1", 20) + "0", // too long
	} {
		if stream, seq, c, ok := ParseEventIDCursor([]byte(s)); ok {
			t.Errorf("ParseEventIDCursor(%q) = %d, %d, %v, true; want false", s, stream, seq, c)
		}
	}
}

// FuzzParseEventID: ParseEventIDCursor never panics, what it accepts is
// exactly what AppendEventIDCursor writes (AppendEventID without a
// cursor), ParseEventID agrees with it, and AppendEventIDCursor's output
// always parses.
//
//	go test ./sessions -run='^$' -fuzz='^FuzzParseEventID$' -fuzztime=20s
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"0_0", "1_2", "18446744073709551615_18446744073709551615",
		"18446744073709551616_0", "01_1", "1_", "_", "", "1_2_3", "+1_2", "1_2 ", "\xff_1",
		"1_2_3-4", "1_2_0-0", "1_2_3-", "1_2_-4", "1_2_3-4_5"} {
		f.Add([]byte(s), uint64(0), uint64(0), uint64(0), uint64(0))
	}
	f.Add([]byte("7_7"), uint64(math.MaxUint64), uint64(1), uint64(1764460800000), uint64(2))
	f.Fuzz(func(t *testing.T, b []byte, stream, seq, ms, n uint64) {
		st, sq, c, ok := ParseEventIDCursor(b)
		if st2, sq2, ok2 := ParseEventID(b); ok2 != ok || st2 != st || sq2 != sq {
			t.Fatalf("ParseEventID(%q) = %d, %d, %v; ParseEventIDCursor says %d, %d, %v", b, st2, sq2, ok2, st, sq, ok)
		}
		if ok {
			if got := AppendEventIDCursor(nil, st, sq, c); string(got) != string(b) {
				t.Fatalf("ParseEventIDCursor(%q) = %d, %d, %v but AppendEventIDCursor gives %q", b, st, sq, c, got)
			}
			// The reference: strconv agrees on the stream.
			i := strings.IndexByte(string(b), '_')
			if u, err := strconv.ParseUint(string(b[:i]), 10, 64); err != nil || u != st {
				t.Fatalf("ParseEventIDCursor(%q) stream %d; strconv says %d, %v", b, st, u, err)
			}
		}
		want := Cursor{ms, n}
		id := AppendEventIDCursor(nil, stream, seq, want)
		st, sq, c, ok = ParseEventIDCursor(id)
		if !ok || st != stream || sq != seq || c != want {
			t.Fatalf("ParseEventIDCursor(AppendEventIDCursor(%d, %d, %v) = %q) = %d, %d, %v, %v", stream, seq, want, id, st, sq, c, ok)
		}
	})
}

// validIDRef is the reference for ValidID.
func validIDRef(id string) bool {
	return len(id) == IDLen && strings.Trim(id, "0123456789abcdef") == ""
}

// FuzzValidID: ValidID agrees with a plain reference, and NewID is valid.
//
//	go test ./sessions -run='^$' -fuzz='^FuzzValidID$' -fuzztime=10s
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"", NewID(), strings.ToUpper(NewID()), NewID()[1:], NewID() + "a",
		"0123456789abcdef0123456789abcdeg", strings.Repeat("\xff", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidID(id), validIDRef(id); got != want {
			t.Fatalf("ValidID(%q) = %v, reference says %v", id, got, want)
		}
		if n := NewID(); !ValidID(n) {
			t.Fatalf("NewID() = %q is not valid", n)
		}
	})
}
