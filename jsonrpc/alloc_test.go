//go:build !race

package jsonrpc

import "testing"

// TestDecodeAllocs holds Decode of a request of the common shape (its
// fast path, scanRequest) to two allocations: the message with the list
// it is returned in, and one buffer for the ID and params; the method of
// a tools/call is a constant.
func TestDecodeAllocs(t *testing.T) {
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
