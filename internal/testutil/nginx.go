package testutil

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An Nginx is a test's own nginx (Debian's package) in front of several
// upstream servers, balancing plain round robin: each request goes to the
// next upstream, as a load balancer without session affinity does. It
// runs as the current user, with its prefix, logs and temporary files in
// a directory of the test's own, and listens on a free 127.0.0.1 port.
type Nginx struct {
	dir  string
	port int
}

// StartNginx starts nginx in front of upstreams (host:port each), with
// what SSE needs (no buffering, no cache, HTTP/1.1 keep-alive to the
// upstreams, long read timeouts), and stops it when t ends. Without nginx
// it skips t, or fails it if env CI is set (make test installs nginx).
func StartNginx(t testing.TB, upstreams []string) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			bin = "/usr/sbin/nginx"
		} else if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed (CI is set): make test installs it (make debs)")
		} else {
			t.Skip("nginx is not installed: make debs installs it")
		}
	}
	n := &Nginx{dir: t.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	user := ""
	if os.Getuid() == 0 {
		user = "user root;" // else the workers would run as nobody, who cannot read the test's files
	}
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "        server %s;\n", u)
	}
	conf := fmt.Sprintf(`daemon off;
%[1]s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log notice;
events { worker_connections 1024; }
http {
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    log_format up '$upstream_addr $request_method $status';
    access_log %[2]s/logs/access.log up;
    upstream nodes {
%[3]s        keepalive 16;
    }
    server {
        listen 127.0.0.1:%[4]d;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_cache off;
            gzip off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
`, user, n.dir, servers.String(), n.port)
	confPath := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", n.dir, "-e", filepath.Join(n.dir, "logs/error.log"), "-c", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // owner: the test; exit: nginx exits (Cleanup)
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	WaitFor(t, 10*time.Second, func() error {
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(n.dir, "logs/error.log"))
			t.Fatalf("nginx exited at start: %s", b)
		default:
		}
		c, err := net.Dial("tcp", n.Addr())
		if err != nil {
			return err
		}
		return c.Close()
	})
	return n
}

// Addr returns the host:port nginx listens on.
func (n *Nginx) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// Upstreams counts the requests nginx has logged, by the upstream that
// answered them (the last one it tried). nginx writes its access log
// line when a request ends: a GET stream still open is not counted yet.
func (n *Nginx) Upstreams() map[string]int {
	out := map[string]int{}
	f, err := os.Open(filepath.Join(n.dir, "logs/access.log"))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] == "-" {
			continue
		}
		ups := strings.Split(fields[0], ",")
		out[strings.TrimSpace(ups[len(ups)-1])]++
	}
	return out
}
