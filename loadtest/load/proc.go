package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A ProcSample is the server's resource use at one moment: resident
// memory and threads from /proc/<pid>/status (Linux), goroutines from a
// metrics URL. A field that could not be read is 0.
type ProcSample struct {
	T          float64 `json:"t_s"` // seconds since the start of the run
	RSSBytes   int64   `json:"rss_bytes,omitempty"`
	Threads    int     `json:"threads,omitempty"`
	Goroutines int     `json:"goroutines,omitempty"`
}

// ReadProc reads VmRSS and Threads from /proc/<pid>/status.
func ReadProc(pid int) (rssBytes int64, threads int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			f := bytes.Fields(line[len("VmRSS:"):])
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				rssBytes = kb * 1024
			}
		case bytes.HasPrefix(line, []byte("Threads:")):
			threads, _ = strconv.Atoi(string(bytes.TrimSpace(line[len("Threads:"):])))
		}
	}
	return rssBytes, threads, nil
}

// ReadGoroutines reads the goroutine count from url, which may serve
// Prometheus text (the go_goroutines gauge), a pprof goroutine profile
// with debug=1 ("goroutine profile: total N"), or expvar-style JSON with a
// "goroutines" number.
func ReadGoroutines(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	return parseGoroutines(b)
}

func parseGoroutines(b []byte) (int, error) {
	b = append([]byte("\n"), b...) // so that a gauge on the first line is found too
	for _, tok := range [][]byte{[]byte("\ngo_goroutines "), []byte("goroutine profile: total "), []byte(`"goroutines":`)} {
		i := bytes.Index(b, tok)
		if i < 0 {
			continue
		}
		rest := bytes.TrimLeft(b[i+len(tok):], " ")
		j := 0
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.' || rest[j] == 'e' || rest[j] == '+') {
			j++
		}
		f, err := strconv.ParseFloat(string(rest[:j]), 64)
		if err != nil {
			return 0, fmt.Errorf("load: goroutines: %w", err)
		}
		return int(f), nil
	}
	return 0, errors.New("load: no goroutine count found (want go_goroutines, a pprof goroutine profile, or \"goroutines\")")
}

// A Sampler takes ProcSamples of a server process.
type Sampler struct {
	Pid        func() int // the process to sample (nil or 0: no /proc sampling)
	MetricsURL string     // "": no goroutine count
	Start      time.Time

	mu      sync.Mutex
	samples []ProcSample
}

// Sample takes one sample now and keeps it.
func (s *Sampler) Sample(ctx context.Context) ProcSample {
	p := ProcSample{T: Round3(time.Since(s.Start).Seconds())}
	if s.Pid != nil {
		if pid := s.Pid(); pid > 0 {
			p.RSSBytes, p.Threads, _ = ReadProc(pid)
		}
	}
	if s.MetricsURL != "" {
		mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		p.Goroutines, _ = ReadGoroutines(mctx, s.MetricsURL)
		cancel()
	}
	s.mu.Lock()
	s.samples = append(s.samples, p)
	s.mu.Unlock()
	return p
}

// Samples returns the samples taken so far.
func (s *Sampler) Samples() []ProcSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ProcSample(nil), s.samples...)
}

// Every samples once per interval until ctx is done. The caller owns the
// goroutine that runs it.
func (s *Sampler) Every(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sample(ctx)
		}
	}
}

// A ServerProcess is a server the load generator started itself, so that
// it can restart it (a reconnect storm) and sample it.
type ServerProcess struct {
	// Args is the command and its arguments (e.g. {"/bin/sh", "-c", cmd}).
	Args []string
	// Env is added to the environment of the process.
	Env []string
	// Addr is the host:port it listens on; Start waits until it accepts
	// connections there.
	Addr string
	// Stdout and Stderr receive the process's output (nil: discarded).
	Stdout, Stderr io.Writer
	// Signal stops it (default: SIGKILL, a crash: every session is lost
	// at once and nothing is drained).
	Signal syscall.Signal
	// HealthURL, if set, is polled after Addr accepts connections, and
	// Start waits until it answers 200 (mcpfiber's /healthz).
	HealthURL string
	// ReadyTimeout bounds the wait for the address (and HealthURL).
	// Default: 30s.
	ReadyTimeout time.Duration

	cmd    *exec.Cmd // Start's and Stop's own: the goroutine that runs the fleet
	exited chan struct{}
	pid    atomic.Int64 // cmd's process ID, 0 when stopped: Pid reads it from any goroutine (a Sampler)
}

// Start starts the process, in a process group of its own, and waits
// until Addr accepts TCP connections.
func (p *ServerProcess) Start(ctx context.Context) error {
	if len(p.Args) == 0 {
		return errors.New("load: server process: no command")
	}
	if p.ReadyTimeout <= 0 {
		p.ReadyTimeout = 30 * time.Second
	}
	cmd := exec.Command(p.Args[0], p.Args[1:]...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("load: server process: %w", err)
	}
	p.cmd = cmd
	p.pid.Store(int64(cmd.Process.Pid))
	p.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.exited) }() // owner: ServerProcess; exit: the process exits
	ready := time.Now().Add(p.ReadyTimeout)
	for {
		if p.ready() {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("load: server process exited before listening on %s", p.Addr)
		case <-ctx.Done():
			p.Stop()
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(ready) {
			p.Stop()
			if p.HealthURL != "" {
				return fmt.Errorf("load: server process: %s not accepting connections or %s not 200 after %s", p.Addr, p.HealthURL, p.ReadyTimeout)
			}
			return fmt.Errorf("load: server process: %s not accepting connections after %s", p.Addr, p.ReadyTimeout)
		}
	}
}

// ready reports whether Addr accepts connections and HealthURL, if set,
// answers 200.
func (p *ServerProcess) ready() bool {
	conn, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	if p.HealthURL == "" {
		return true
	}
	hc := http.Client{Timeout: time.Second}
	resp, err := hc.Get(p.HealthURL)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Pid returns the process ID (0 before Start and after Stop). It is safe
// to call while another goroutine starts or stops the process.
func (p *ServerProcess) Pid() int { return int(p.pid.Load()) }

// Stop signals the process group with Signal and waits for the process
// to exit (after 10s, it is killed).
func (p *ServerProcess) Stop() error { return p.StopWith(p.Signal) }

// StopWith signals the process group with sig (0: SIGKILL) and waits for
// the process to exit (after 10s, it is killed).
func (p *ServerProcess) StopWith(sig syscall.Signal) error {
	if p.cmd == nil {
		return nil
	}
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	p.cmd = nil
	p.pid.Store(0)
	return nil
}

// Restart stops the process and starts it again on the same address.
func (p *ServerProcess) Restart(ctx context.Context) error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start(ctx)
}
