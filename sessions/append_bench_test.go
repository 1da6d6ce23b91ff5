package sessions

import (
	"strconv"
	"testing"
)

// BenchmarkAppend appends to the streams of one session, round robin, with
// the logs full: every Append also trims. The data is one shared buffer,
// so the heap holds only the logs themselves whatever the budgets.
//
//   - size=128B/streams=1: the count bound (MaxEventsPerStream) trims; the
//     byte budgets are never reached.
//
//   - size=64KiB/streams=1: the per-stream byte budget (1 MiB) trims.
//
//   - size=16KiB/streams=64: the session byte budget (8 MiB) trims other
//     streams' logs.
//
//     go test ./sessions -run='^$' -bench=BenchmarkAppend -benchmem -count=5
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		size, streams int
		name          string
	}{
		{128, 1, "128B"},
		{64 << 10, 1, "64KiB"},
		{16 << 10, 64, "16KiB"},
	} {
		b.Run("size="+bc.name+"/streams="+strconv.Itoa(bc.streams), func(b *testing.B) {
			m := New(&Options{IdleTimeout: -1})
			defer m.Close()
			s, err := m.Create("2025-11-25", nil)
			if err != nil {
				b.Fatal(err)
			}
			sts := make([]*Stream, bc.streams)
			for i := range sts {
				sts[i] = s.NewStream()
			}
			data := make([]byte, bc.size)
			for i := range len(sts) * DefaultMaxEventsPerStream { // fill the logs
				sts[i%len(sts)].Append(data)
			}
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, ok := sts[i%len(sts)].Append(data); !ok {
					b.Fatal("Append failed")
				}
			}
		})
	}
}
