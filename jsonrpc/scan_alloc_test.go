//go:build !race

package jsonrpc

import "testing"

// TestScanRequestAllocs holds Decode of a request of the common shape (its
// fast path, scanRequest) to two allocations: the message with the list
// it is returned in, and one buffer for the ID and params; the method of
// a tools/call is a constant.
func TestScanRequestAllocs(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`)
	if msgs, _, err := Decode(body); err != nil || msgs[0].Method != "tools/call" {
		t.Fatalf("Decode: %v, %v", msgs, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = Decode(body) }); n != 2 {
		t.Errorf("Decode(tools/call): got %v allocs/op, want 2", n)
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
