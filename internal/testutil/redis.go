package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A Redis is a redis-server process of a test: on its own free port of
// 127.0.0.1, in its own temporary directory, without persistence
// (--save "" --appendonly no), so a restart starts empty. It is stopped
// when the test ends. It never uses the machine's shared Redis on 6379.
type Redis struct {
	t    testing.TB
	port int
	dir  string
	args []string // extra arguments, kept for Restart

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// RedisStartTimeout bounds how long StartRedis and Restart wait for a new
// redis-server to answer PING.
const RedisStartTimeout = 10 * time.Second

// requireRedis skips t when redis-server is not installed, or fails it
// when the environment variable CI is set: CI must never skip the tests
// that need Redis.
func requireRedis(t testing.TB, bins ...string) {
	t.Helper()
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed, and CI is set: install it (Debian: redis-server)", bin)
			}
			t.Skipf("%s is not installed (Debian: redis-server)", bin)
		}
	}
}

// StartRedis starts a redis-server with args appended to its command
// line, and returns once it answers PING (within [RedisStartTimeout]).
// Without redis-server it skips t, or fails it if env CI is set.
func StartRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	requireRedis(t, "redis-server")
	r := &Redis{t: t, port: freeRedisPort(t), dir: t.TempDir(), args: args}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Kill)
	return r
}

// freeRedisPort returns a port of 127.0.0.1 that is free now, and whose
// cluster bus port (port + 10000) is free too.
func freeRedisPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port
	}
	t.Fatal("no free port pair for redis-server")
	return 0
}

func (r *Redis) start() error {
	args := append([]string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(r.dir, "redis.log"),
	}, r.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { // owner: the Redis; exit: the process exits (Kill, or at the test's end)
		_ = cmd.Wait()
		close(done)
	}()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	deadline := time.Now().Add(RedisStartTimeout)
	for {
		reply, err := r.Do("PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start: %s", r.port, r.log())
		default:
		}
		if time.Now().After(deadline) {
			r.Kill()
			return fmt.Errorf("redis-server on port %d: no PONG within %v: %v", r.port, RedisStartTimeout, err)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for an event
	}
}

// log returns the end of the server's log file, for error messages.
func (r *Redis) log() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Addr returns the server's address, "127.0.0.1:port".
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL returns the server's URL, "redis://127.0.0.1:port/0".
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Kill kills the server with SIGKILL and waits for it to exit. Killing a
// server that is not running does nothing.
func (r *Redis) Kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Pause stops the server with SIGSTOP: connections stay open and nothing
// answers, as with a hung Redis or a network partition. Resume undoes it;
// a paused server is resumed before it is killed.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume continues a server stopped by Pause (SIGCONT).
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
	}
}

// Restart kills the server if it is running and starts it again on the
// same port and directory, empty (nothing is persisted). It fails t if the
// server does not come back.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	if err := r.start(); err != nil {
		r.t.Fatal(err)
	}
}

// Do sends one command to the server on a new connection and returns its
// reply as text: a status or bulk string as is, an integer in decimal, an
// array as its elements (flattened), one per line, a nil reply as "".
// A Redis error reply is returned as an error.
func (r *Redis) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	var out []string
	if err := readReply(bufio.NewReader(c), &out); err != nil {
		return "", err
	}
	return strings.Join(out, "\n"), nil
}

// readReply reads one RESP2 reply, appending its strings to out.
func readReply(br *bufio.Reader, out *[]string) error {
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return errors.New("redis: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		*out = append(*out, line[1:])
	case '-':
		return errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return err
		}
		if n < 0 {
			*out = append(*out, "")
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		*out = append(*out, string(buf[:n]))
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return err
		}
		for range n {
			if err := readReply(br, out); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("redis: unexpected reply %q", line)
	}
	return nil
}

// A RedisCluster is a Redis Cluster of test redis-servers, masters only.
type RedisCluster struct {
	Nodes []*Redis
}

// StartRedisCluster starts n redis-servers (n >= 3) with cluster mode on,
// joins them into a cluster of n masters with redis-cli --cluster create
// (no replicas), and returns once every node reports cluster_state:ok.
// Without redis-server or redis-cli it skips t, or fails it if env CI is
// set; it skips t with the reason if the machine does not let the nodes
// form a cluster.
func StartRedisCluster(t testing.TB, n int) *RedisCluster {
	t.Helper()
	requireRedis(t, "redis-server", "redis-cli")
	c := &RedisCluster{}
	for range n {
		c.Nodes = append(c.Nodes, StartRedis(t,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000"))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Skipf("redis-cli --cluster create failed, the machine does not allow a local cluster: %v\n%s", err, out)
	}
	WaitFor(t, 20*time.Second, func() error {
		for _, node := range c.Nodes {
			info, err := node.Do("CLUSTER", "INFO")
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("node %s: cluster not ok yet", node.Addr())
			}
		}
		return nil
	})
	return c
}

// Addrs returns the nodes' addresses.
func (c *RedisCluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, node := range c.Nodes {
		addrs[i] = node.Addr()
	}
	return addrs
}

// URL returns a URL naming every node: the first as the host, the others
// as addr parameters ("redis://127.0.0.1:p1?addr=127.0.0.1:p2&addr=…"),
// the form rueidis.ParseURL reads as a cluster's initial addresses.
func (c *RedisCluster) URL() string {
	u := "redis://" + c.Nodes[0].Addr()
	for i, node := range c.Nodes[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + node.Addr()
	}
	return u
}

// URLs returns each node's URL.
func (c *RedisCluster) URLs() []string {
	urls := make([]string, len(c.Nodes))
	for i, node := range c.Nodes {
		urls[i] = "redis://" + node.Addr()
	}
	return urls
}
