package testutil

import (
	"strings"
	"testing"
)

func TestRedisRestart(t *testing.T) {
	r := StartRedis(t)
	if _, err := r.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	r.Kill()
	if _, err := r.Do("PING"); err == nil {
		t.Fatal("PING answered after Kill")
	}
	r.Restart()
	got, err := r.Do("GET", "k")
	if err != nil || got != "" {
		t.Fatalf("GET k after restart = %q, %v; want empty (no persistence)", got, err)
	}
}

func TestRedisCluster(t *testing.T) {
	c := StartRedisCluster(t, 3)
	info, err := c.Nodes[1].Do("CLUSTER", "INFO")
	if err != nil || !strings.Contains(info, "cluster_known_nodes:3") {
		t.Fatalf("CLUSTER INFO = %q, %v", info, err)
	}
}
