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

// FuzzParseEventID: ParseEventID never panics, what it accepts is exactly
// what AppendEventID writes, and AppendEventID's output always parses.
//
//	go test ./sessions -run='^$' -fuzz='^FuzzParseEventID$' -fuzztime=10s
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"0_0", "1_2", "18446744073709551615_18446744073709551615",
		"18446744073709551616_0", "01_1", "1_", "_", "", "1_2_3", "+1_2", "1_2 ", "\xff_1"} {
		f.Add([]byte(s), uint64(0), uint64(0))
	}
	f.Add([]byte("7_7"), uint64(math.MaxUint64), uint64(1))
	f.Fuzz(func(t *testing.T, b []byte, stream, seq uint64) {
		if st, sq, ok := ParseEventID(b); ok {
			if got := AppendEventID(nil, st, sq); string(got) != string(b) {
				t.Fatalf("ParseEventID(%q) = %d, %d but AppendEventID gives %q", b, st, sq, got)
			}
			// The reference: strconv agrees on both halves.
			i := strings.IndexByte(string(b), '_')
			if u, err := strconv.ParseUint(string(b[:i]), 10, 64); err != nil || u != st {
				t.Fatalf("ParseEventID(%q) stream %d; strconv says %d, %v", b, st, u, err)
			}
		}
		id := AppendEventID(nil, stream, seq)
		st, sq, ok := ParseEventID(id)
		if !ok || st != stream || sq != seq {
			t.Fatalf("ParseEventID(AppendEventID(%d, %d) = %q) = %d, %d, %v", stream, seq, id, st, sq, ok)
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
