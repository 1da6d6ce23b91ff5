package bench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// The Redis client benchmarks pick the client of package redisstore: the
// commands it sends (GET of a record, SET with PX, a pipeline of PEXPIREs
// for a batch of touches, and GETs from many goroutines at once), through
// rueidis and through go-redis, against a redis-server of their own.
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench '^BenchmarkRedis$' -benchmem -count 1 .; done
//
// (-count 1 in a loop, so that the passes of the two clients alternate.)

// redisOps is one client's way of sending the benchmarked commands.
type redisOps struct {
	get      func(ctx context.Context, key string) error
	setPX    func(ctx context.Context, key string, val []byte) error
	pexpires func(ctx context.Context, keys []string) error
	close    func()
}

// record is about the size of a typical session record.
var record = make([]byte, 300)

func rueidisOps(b *testing.B, addr string) redisOps {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	return redisOps{
		get: func(ctx context.Context, key string) error {
			return c.Do(ctx, c.B().Get().Key(key).Build()).Error()
		},
		setPX: func(ctx context.Context, key string, val []byte) error {
			return c.Do(ctx, c.B().Set().Key(key).Value(rueidis.BinaryString(val)).PxMilliseconds(60000).Build()).Error()
		},
		pexpires: func(ctx context.Context, keys []string) error {
			cmds := make(rueidis.Commands, len(keys))
			for i, k := range keys {
				cmds[i] = c.B().Pexpire().Key(k).Milliseconds(60000).Build()
			}
			for _, r := range c.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					return err
				}
			}
			return nil
		},
		close: c.Close,
	}
}

func goredisOps(b *testing.B, addr string) redisOps {
	c := redis.NewClient(&redis.Options{Addr: addr})
	return redisOps{
		get: func(ctx context.Context, key string) error {
			return c.Get(ctx, key).Err()
		},
		setPX: func(ctx context.Context, key string, val []byte) error {
			return c.Set(ctx, key, val, time.Minute).Err()
		},
		pexpires: func(ctx context.Context, keys []string) error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.PExpire(ctx, k, time.Minute)
				}
				return nil
			})
			return err
		},
		close: func() { _ = c.Close() },
	}
}

func BenchmarkRedis(b *testing.B) {
	r := testutil.StartRedis(b)
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "mcpfiber:s:{" + strconv.Itoa(i) + "}"
		if _, err := r.Do("SET", keys[i], string(record)); err != nil {
			b.Fatal(err)
		}
	}
	clients := []struct {
		name string
		ops  redisOps
	}{{"rueidis", rueidisOps(b, r.Addr())}, {"goredis", goredisOps(b, r.Addr())}}
	defer func() {
		for _, c := range clients {
			c.ops.close()
		}
	}()
	// Operation first, then client: the two clients of an operation run
	// back to back, under the same load of a shared machine.
	for _, c := range clients {
		b.Run("op=get/client="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.ops.get(ctx, keys[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range clients {
		b.Run("op=setpx/client="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.ops.setPX(ctx, keys[1], record); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range clients {
		b.Run("op=pexpire100/client="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.ops.pexpires(ctx, keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range clients {
		b.Run("op=getparallel/client="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := c.ops.get(ctx, keys[i%len(keys)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
