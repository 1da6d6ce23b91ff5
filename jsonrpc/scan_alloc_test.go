//go:build !race

package jsonrpc

import (
	"testing"
	"unsafe"
)

// TestScanRequestAllocs holds Decode of a request of the common shape (its
// fast path, scanRequest) to one allocation when the ID and params fit in
// the message's allocation (an inlineSingle or a smallInlineSingle): the
// message, the list it is returned in and the ID and params together; the
// method of a tools/call is a constant. ID and params too long for that
// take a second allocation.
func TestScanRequestAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		body string
		want float64
	}{
		{"tools/call", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`, 1},
		{"ping", `{"jsonrpc":"2.0","id":"3f2c9a1e-8b4d-4c6f-9e7a-1d2b3c4d5e6f","method":"ping"}`, 1},
		{"notifications/initialized", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, 1},
		{"smallInlineLen", requestOfSize(int(smallInlineLen)), 1},
		{"smallInlineLen+1", requestOfSize(int(smallInlineLen) + 1), 1},
		{"inlineLen", requestOfSize(int(inlineLen)), 1},
		{"inlineLen+1", requestOfSize(int(inlineLen) + 1), 2},
		{"large params", requestOfSize(1000), 2},
	} {
		body := []byte(c.body)
		if one := scanRequest(body, nil); one == nil {
			t.Fatalf("%s: scanRequest(%.60s) = nil, want the fast path", c.name, body)
		}
		if msgs, _, err := Decode(body); err != nil || msgs[0].Method == "" {
			t.Fatalf("%s: Decode: %v, %v", c.name, msgs, err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _, _ = Decode(body) }); n != c.want {
			t.Errorf("Decode(%s): got %v allocs/op, want %v", c.name, n, c.want)
		}
	}
}

// TestDecodeInAllocs: DecodeIn decodes a request whose ID and params fit
// in the caller's Single into it, allocating nothing; a larger one is
// decoded as Decode does, the Single left alone.
func TestDecodeInAllocs(t *testing.T) {
	call := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`)
	in := new(Single)
	if n := testing.AllocsPerRun(100, func() {
		*in = Single{}
		if msgs, _, err := DecodeIn(call, in); err != nil || msgs[0] != &in.m || string(msgs[0].ID) != "7" {
			t.Fatalf("DecodeIn: %v, %v", msgs, err)
		}
	}); n != 0 {
		t.Errorf("DecodeIn(tools/call): got %v allocs/op, want 0", n)
	}
	big := []byte(requestOfSize(SingleRoom + 1))
	*in = Single{}
	if msgs, _, err := DecodeIn(big, in); err != nil || msgs[0] == &in.m || in.m.Method != "" {
		t.Fatalf("DecodeIn of %d bytes of ID and params: %v, %v; want a message of its own", SingleRoom+1, msgs, err)
	}
}

// TestInlineSingleSize holds inlineSingle and smallInlineSingle to the
// 320- and 192-byte size classes, with the room for ID and params the
// doc comments say.
func TestInlineSingleSize(t *testing.T) {
	if size := unsafe.Sizeof(inlineSingle{}); size != 320 {
		t.Errorf("inlineSingle is %d bytes, want 320 (a size class)", size)
	}
	if size := unsafe.Sizeof(smallInlineSingle{}); size != 192 {
		t.Errorf("smallInlineSingle is %d bytes, want 192 (a size class)", size)
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && (inlineLen != 208 || smallInlineLen != 80) {
		t.Errorf("inlineLen, smallInlineLen = %d, %d, want 208, 80 on 64-bit platforms (as the doc comments say)", inlineLen, smallInlineLen)
	}
}

// BenchmarkDecode measures Decode of a tools/call request.
//
//	go test ./jsonrpc -run='^$' -bench=BenchmarkDecode -benchmem -count=10
func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = Decode(body)
	}
}

// TestAppendAllocs holds AppendResult, AppendNotification and
// AppendRequest to one allocation on a nil dst, and none with room.
func TestAppendAllocs(t *testing.T) {
	id, result := []byte(`"req-7"`), []byte(`{"content":[{"type":"text","text":"hello, a longer text than the header"}]}`)
	room := make([]byte, 0, 512)
	for _, c := range []struct {
		name string
		f    func(dst []byte) []byte
	}{
		{"AppendResult", func(dst []byte) []byte { return AppendResult(dst, id, result) }},
		{"AppendNotification", func(dst []byte) []byte { return AppendNotification(dst, "notifications/progress", result) }},
		{"AppendRequest", func(dst []byte) []byte { return AppendRequest(dst, id, "sampling/createMessage", result) }},
		{"AppendError", func(dst []byte) []byte { return AppendError(dst, id, NewError(CodeInvalidParams, "bad")) }},
	} {
		if n := testing.AllocsPerRun(100, func() { c.f(nil) }); n > 1 {
			t.Errorf("%s(nil, ...): got %v allocs/op, want 1", c.name, n)
		}
		if n := testing.AllocsPerRun(100, func() { c.f(room[:0]) }); n != 0 {
			t.Errorf("%s(dst with room, ...): got %v allocs/op, want 0", c.name, n)
		}
	}
}
