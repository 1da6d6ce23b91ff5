package load

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

// TestSeqCheck checks the per-stream check of getkill on sequences with
// every kind of fault: what is lost, repeated, or late.
func TestSeqCheck(t *testing.T) {
	for _, tc := range []struct {
		name               string
		got                []int64
		last               int64
		skip               map[int64]bool
		lost, dup, ooo     int64
		first, maxN, count int64
	}{
		{name: "all", got: []int64{1, 2, 3, 4}, last: 4, first: 1, maxN: 4, count: 4},
		{name: "none", got: nil, last: 4},
		{name: "late start", got: []int64{3, 4, 5}, last: 5, first: 3, maxN: 5, count: 3},
		{name: "gap", got: []int64{1, 2, 5, 6}, last: 6, lost: 2, first: 1, maxN: 6, count: 4},
		{name: "tail missing", got: []int64{1, 2}, last: 5, lost: 3, first: 1, maxN: 2, count: 2},
		{name: "repeat", got: []int64{1, 2, 2, 3, 1}, last: 3, dup: 2, first: 1, maxN: 3, count: 5},
		{name: "replayed after a gap", got: []int64{1, 2, 4, 5, 3, 4, 5}, last: 5, dup: 2, ooo: 1, first: 1, maxN: 5, count: 7},
		{name: "late", got: []int64{1, 3, 2, 4}, last: 4, ooo: 1, first: 1, maxN: 4, count: 4},
		{name: "beyond 64", got: []int64{63, 64, 65, 127, 128, 200}, last: 200, lost: 200 - 63 + 1 - 6, first: 63, maxN: 200, count: 6},
		{name: "failed raises skipped", got: []int64{1, 2, 4}, last: 5, skip: map[int64]bool{3: true, 5: true}, first: 1, maxN: 4, count: 3},
		{name: "zero ignored", got: []int64{0, 1, 0, 2}, last: 2, first: 1, maxN: 2, count: 2},
	} {
		var c SeqCheck
		for _, n := range tc.got {
			c.Add(n)
		}
		var skip func(int64) bool
		if tc.skip != nil {
			skip = func(n int64) bool { return tc.skip[n] }
		}
		if lost := c.Lost(tc.last, skip); lost != tc.lost || c.Duplicated() != tc.dup || c.OutOfOrder() != tc.ooo ||
			c.First() != tc.first || c.Max() != tc.maxN || c.Received() != tc.count {
			t.Errorf("%s: SeqCheck of %v, last %d: lost %d, dup %d, out of order %d, first %d, max %d, received %d; want %d, %d, %d, %d, %d, %d",
				tc.name, tc.got, tc.last, lost, c.Duplicated(), c.OutOfOrder(), c.First(), c.Max(), c.Received(),
				tc.lost, tc.dup, tc.ooo, tc.first, tc.maxN, tc.count)
		}
	}
}

// TestParseSeq checks that only the broadcasts of the loadtest catalog
// count, whatever the order of their fields.
func TestParseSeq(t *testing.T) {
	for _, tc := range []struct {
		data string
		want int64
	}{
		{`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"loadtest","data":{"seq":42}}}`, 42},
		{`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":{"seq": 7},"logger":"loadtest","level":"info"}}`, 7},
		{`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"progress","data":{"seq":42}}}`, 0},
		{`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`, 0},
		{`{"logger":"loadtest","data":{}}`, 0},
	} {
		if got := parseSeq([]byte(tc.data)); got != tc.want {
			t.Errorf("parseSeq(%s) = %d, want %d", tc.data, got, tc.want)
		}
	}
}

// TestReadEvents checks what ReadEvents reports of each SSE event: the
// id field as an SSE client keeps it (the priming event's too, with no
// data), and the data; and that Read still sees the data only.
func TestReadEvents(t *testing.T) {
	const in = "id: s_0\ndata:\n\n" + // a priming event: an id, no data
		"retry: 1000\n\n" + // neither: not reported
		"id: s_1\ndata: one\n\n" +
		": keep-alive\n\n" +
		"data: two\n\n" + // no id field: the last one stands
		"id:\ndata: three\n\n" // an empty id field resets it
	type ev struct{ id, data string }
	want := []ev{{"s_0", "<nil>"}, {"s_1", "one"}, {"<nil>", "two"}, {"", "three"}}
	str := func(b []byte) string {
		if b == nil {
			return "<nil>"
		}
		return string(b)
	}
	var got []ev
	s := &Stream{br: bufio.NewReader(strings.NewReader(in))}
	if err := s.ReadEvents(func(id, data []byte) { got = append(got, ev{str(id), str(data)}) }); err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	if !slices.Equal(got, want) || s.Events() != 3 || s.Comments() != 1 {
		t.Errorf("ReadEvents got %q, events %d, comments %d; want %q, 3, 1", got, s.Events(), s.Comments(), want)
	}
	var data []string
	s = &Stream{br: bufio.NewReader(strings.NewReader(in))}
	if err := s.Read(func(d []byte) { data = append(data, string(d)) }); err != nil || !slices.Equal(data, []string{"one", "two", "three"}) {
		t.Errorf("Read got %q, %v; want the data of the three events with data", data, err)
	}
}
