//go:build !race

// The race detector makes sync.Pool and some runtime paths allocate, so the
// zero-allocation contracts are checked without it.

package sessions

import (
	"strings"
	"testing"
)

// TestLookupAllocs enforces the zero-allocation contract of [Map.Lookup]:
// a hit, a miss with a well-formed ID, and malformed IDs, from memory that
// is not the map key's, as a request header is.
func TestLookupAllocs(t *testing.T) {
	m := newTestMap(t, Options{})
	for range 100 {
		mustCreate(t, m)
	}
	s := mustCreate(t, m)
	hit := string([]byte(s.ID())) // not the key's memory
	miss := NewID()
	cases := []struct {
		name string
		id   string
		want *Session
	}{
		{"hit", hit, s},
		{"miss", miss, nil},
		{"empty", "", nil},
		{"short", hit[:10], nil},
		{"long", hit + "00", nil},
		{"uppercase", strings.ToUpper(hit), nil},
		{"non-hex", "zz" + hit[2:], nil},
	}
	for _, c := range cases {
		var got *Session
		n := testing.AllocsPerRun(1000, func() { got = m.Lookup(c.id) })
		if got != c.want {
			t.Errorf("%s: Lookup = %v, want %v", c.name, got, c.want)
		}
		if n != 0 {
			t.Errorf("%s: Lookup allocates %v times per call, want 0", c.name, n)
		}
	}
}

func TestParseEventIDAllocs(t *testing.T) {
	for _, id := range [][]byte{[]byte("3_1234"), []byte("18446744073709551615_18446744073709551615"), []byte("x_1"), nil,
		[]byte("4294967296_7_1764460800000-3"), []byte("1_2_3-x")} {
		n := testing.AllocsPerRun(1000, func() { _, _, sinkBool = ParseEventID(id) })
		if n != 0 {
			t.Errorf("ParseEventID(%q): %v allocs per call, want 0", id, n)
		}
		n = testing.AllocsPerRun(1000, func() { _, _, _, sinkBool = ParseEventIDCursor(id) })
		if n != 0 {
			t.Errorf("ParseEventIDCursor(%q): %v allocs per call, want 0", id, n)
		}
	}
}

// sinkBool keeps results alive so that calls are not optimized away.
var sinkBool bool

func TestValidIDAllocs(t *testing.T) {
	for _, id := range []string{NewID(), "nope", strings.ToUpper(NewID())} {
		if n := testing.AllocsPerRun(1000, func() { sinkBool = ValidID(id) }); n != 0 {
			t.Errorf("ValidID(%q): %v allocs per call, want 0", id, n)
		}
	}
}

func TestAppendEventIDAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(1000, func() {
		buf = AppendEventID(buf[:0], 1<<63, 1<<63)
	})
	if n != 0 {
		t.Errorf("AppendEventID into a buffer with room: %v allocs per call, want 0", n)
	}
	if string(buf) != "9223372036854775808_9223372036854775808" {
		t.Errorf("AppendEventID wrote %q", buf)
	}
	buf = make([]byte, 0, 96)
	n = testing.AllocsPerRun(1000, func() {
		buf = AppendEventIDCursor(buf[:0], 1<<63, 1<<63, Cursor{1764460800000, 3})
	})
	if n != 0 {
		t.Errorf("AppendEventIDCursor into a buffer with room: %v allocs per call, want 0", n)
	}
}

func TestTouchAllocs(t *testing.T) {
	m := newTestMap(t, Options{})
	s := mustCreate(t, m)
	if n := testing.AllocsPerRun(1000, s.Touch); n != 0 {
		t.Errorf("Touch: %v allocs per call, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Hold(); s.Release() }); n != 0 {
		t.Errorf("Hold+Release: %v allocs per call, want 0", n)
	}
}

// TestNextAllocs enforces "Next does not allocate when buf has room".
func TestNextAllocs(t *testing.T) {
	m := newTestMap(t, Options{MaxEventsPerStream: 8})
	s := mustCreate(t, m)
	st := s.NewStream()
	r := st.Attach(0)
	defer r.Close()
	data := []byte(`{}`)
	for range 8 { // fill the log: from now on Append trims in place
		st.Append(data)
	}
	buf := make([]Event, 0, 16)
	r.Next(buf)
	<-r.Wake()
	n := testing.AllocsPerRun(1000, func() {
		st.Append(data)
		st.Append(data)
		evs, _, status := r.Next(buf[:0])
		if len(evs) != 2 || status != ReadMore {
			t.Fatalf("Next = %d events, status %d", len(evs), status)
		}
		<-r.Wake()
	})
	if n != 0 {
		t.Errorf("Append×2+Next with a full log and room in buf: %v allocs per run, want 0", n)
	}
}
