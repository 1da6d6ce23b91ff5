package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// initID is the JSON-RPC id of the initialize request the bridge sends a
// child: the one id the bridge chooses.
var initID = []byte("0")

// A child is one stdio server process serving one session: the session's
// [mcp.Conn].
//
// Lifecycle: start → initialize → bind (the session exists) → stop (the
// session ended: Close) or exit (the process ended: the session ends).
// exited is closed once the process is reaped and its stdout drained.
type child struct {
	b      *Bridge
	cmd    *exec.Cmd
	pid    int
	stdin  *os.File // write end; closed by terminate and the waiter
	stdout *os.File // read end; read by readStdout only
	stderr *os.File // read end; read by readStderr only
	log    atomic.Pointer[slog.Logger]

	wmu sync.Mutex // serializes writes to stdin, so that messages are not interleaved

	mu       sync.Mutex // guards the fields below
	st       *mcp.SessionState
	initDone bool                    // the initialize response was routed
	pending  map[string]*pendingCall // client requests in flight, by raw id
	tokens   map[string]*pendingCall // the same, by raw progressToken
	out      *mcp.Backlog            // messages for the GET stream, held until the session takes them
	dead     bool                    // the process has exited
	stopping bool                    // stop was called: the session ended

	initResp chan *jsonrpc.Message // the initialize response (cap 1)
	readDone chan struct{}         // closed when readStdout returns
	exited   chan struct{}         // closed by the waiter
	stopOnce sync.Once
}

// A pendingCall is a client request the child has not answered yet.
type pendingCall struct {
	out   mcp.Outbound          // the request's POST stream
	token string                // its raw progressToken, or ""
	resp  chan *jsonrpc.Message // the response, or nil when cancelled (cap 1)
}

// start starts a child process with pipes on its stdio and its reader and
// waiter goroutines.
func (b *Bridge) start() (*child, error) {
	cmd := exec.Command(b.command[0], b.command[1:]...)
	cmd.Env = append(os.Environ(), b.opts.Env...)
	cmd.Dir = b.opts.Dir
	setProcessGroup(cmd)
	// Pipes of our own (*os.File), so that Wait neither copies nor waits
	// for them: the readers run until EOF and the waiter decides.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	closeAll(inR, outW, errW) // the child's ends
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, err
	}
	c := &child{
		b:        b,
		cmd:      cmd,
		pid:      cmd.Process.Pid,
		stdin:    inW,
		stdout:   outR,
		stderr:   errR,
		pending:  make(map[string]*pendingCall),
		tokens:   make(map[string]*pendingCall),
		initResp: make(chan *jsonrpc.Message, 1),
		readDone: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	c.out = mcp.NewBacklog(b.opts.MaxPendingMessages, func() {
		c.logger().Warn("stdio server sent more messages than MaxPendingMessages before its session started; dropping the oldest")
	})
	c.log.Store(b.log.With("pid", c.pid))
	added := b.children.Add(c)
	c.logger().Debug("stdio server started", "command", b.command)
	b.goTracked(c.readStdout)
	b.goTracked(c.readStderr)
	b.goTracked(c.wait)
	if !added { // Close began after Initialize looked: it did not see c
		c.stop()
	}
	return c, nil
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

func (c *child) logger() *slog.Logger { return c.log.Load() }

// initialize sends the client's initialize params under initID and waits
// for the child's result, its exit, or the timeout. It returns the result
// and the negotiated version.
func (c *child) initialize(params []byte, timeout time.Duration) ([]byte, string, *jsonrpc.Error) {
	if err := c.write(jsonrpc.AppendRequest(nil, initID, "initialize", params)); err != nil {
		return nil, "", jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the stdio server does not read its input")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var m *jsonrpc.Message
	select {
	case m = <-c.initResp:
	case <-c.exited:
		return nil, "", jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the stdio server exited before answering initialize")
	case <-t.C:
		c.logger().Error("stdio server did not answer initialize in time", "timeout", timeout)
		return nil, "", jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the stdio server did not answer initialize in time")
	}
	if m.Error != nil {
		return nil, "", m.Error
	}
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if jsonrpc.Unmarshal(m.Result, &r) != nil || !mcp.IsLegacyVersion(r.ProtocolVersion) {
		c.logger().Error("stdio server answered initialize with a protocol version this transport does not serve",
			"protocolVersion", r.ProtocolVersion, "served", mcp.LegacyVersions)
		return nil, "", jsonrpc.NewError(jsonrpc.CodeInternalError,
			"Internal error: the stdio server answered protocol version "+strconv.Quote(r.ProtocolVersion)+", which this transport does not serve")
	}
	return m.Result, r.ProtocolVersion, nil
}

// bind ties the child to its session; false if the process has exited.
func (c *child) bind(st *mcp.SessionState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	c.st = st
	c.out.Bind(st)
	return true
}

// State returns the session's state (nil before bind).
func (c *child) State() *mcp.SessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// SessionStarted tags the child's logs with the session ID and lets
// messages the child sent early go to the session's GET stream
// ([mcp.SessionStarter]).
func (c *child) SessionStarted(id string) {
	c.log.Store(c.b.log.With("pid", c.pid, "session", id))
	c.logger().Info("stdio server serves a session") // ties the pid of earlier lines to the session
	c.flush()
}

// Handle forwards a request to the child and returns the child's
// response: its result, or its error as sent. Errors of the bridge's own:
// CodeInvalidRequest when a request with the same id is in flight;
// CodeInternalError when the child is gone (the session is ending);
// [mcp.ErrNoResponse] (no response is sent) when the client cancelled it
// (notifications/cancelled) before the child answered.
func (c *child) Handle(call *mcp.Call) ([]byte, *jsonrpc.Error) {
	key := string(call.ID)
	p := &pendingCall{out: call.Out, resp: make(chan *jsonrpc.Message, 1)}
	if tok := progressToken(call.Params); tok != nil {
		p.token = string(tok)
	}
	c.mu.Lock()
	switch {
	case c.dead:
		c.mu.Unlock()
		return nil, errChildGone
	case c.pending[key] != nil:
		c.mu.Unlock()
		return nil, errDuplicateID
	}
	c.pending[key] = p
	if p.token != "" {
		c.tokens[p.token] = p
	}
	c.out.Flush()
	c.mu.Unlock()
	defer c.forget(key, p)

	if err := c.write(jsonrpc.AppendRequest(nil, call.ID, call.Method, call.Params)); err != nil {
		return nil, errChildGone
	}
	select {
	case m := <-p.resp:
		switch {
		case m == nil:
			return nil, mcp.ErrNoResponse
		case m.Error != nil:
			return nil, m.Error
		}
		return m.Result, nil
	case <-call.Session.Context().Done():
		return nil, errChildGone
	}
}

func (c *child) forget(key string, p *pendingCall) {
	c.mu.Lock()
	if c.pending[key] == p {
		delete(c.pending, key)
	}
	if p.token != "" && c.tokens[p.token] == p {
		delete(c.tokens, p.token)
	}
	c.mu.Unlock()
}

// Notify forwards a notification to the child. For
// notifications/cancelled it also stops waiting for the cancelled request
// (2025-11-25 basic/utilities/cancellation).
func (c *child) Notify(method string, params json.RawMessage) {
	c.flush()
	if method == "notifications/cancelled" {
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if jsonrpc.Unmarshal(params, &p) == nil && len(p.RequestID) > 0 {
			c.mu.Lock()
			pc := c.pending[string(p.RequestID)]
			if pc != nil {
				delete(c.pending, string(p.RequestID))
			}
			c.mu.Unlock()
			if pc != nil {
				pc.resp <- nil // cap 1, and this is the only send now that it left pending
			}
		}
	}
	c.write(jsonrpc.AppendNotification(nil, method, params))
}

// Deliver forwards the client's response to a request of the child's
// (sampling, elicitation, roots, ping), with its id untouched.
func (c *child) Deliver(m *jsonrpc.Message) {
	msg := encode(m)
	c.flush()
	c.write(msg)
}

// Close ends the session on the bridge's side: the child is stopped (see
// stop) and the session's state closed. It does not block.
func (c *child) Close() error {
	c.stop()
	if st := c.State(); st != nil {
		st.Close()
	}
	return nil
}

// write writes one message and a newline to the child's stdin. It blocks
// while the pipe is full (the child does not read), which holds only
// this session's callers; stop closes stdin and unblocks it.
func (c *child) write(msg []byte) error {
	msg = append(msg, '\n')
	c.wmu.Lock()
	_, err := c.stdin.Write(msg)
	c.wmu.Unlock()
	return err
}

// readStdout reads the child's messages, one per line, and routes them.
// Owner: the Bridge; exit: EOF or a read error (the process exited or was
// killed), or a line over MaxMessageBytes (the child is killed).
func (c *child) readStdout() {
	defer close(c.readDone)
	defer c.stdout.Close()
	sc := bufio.NewScanner(c.stdout)
	sc.Buffer(make([]byte, 0, 64<<10), c.b.opts.MaxMessageBytes)
	junk := limiter{perSecond: 1} // a child that floods stdout with junk must not flood the log
	defer junk.flush(c.logger(), "stdio server wrote lines that are not JSON-RPC; skipped")
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		msgs, batch, derr := jsonrpc.Decode(line)
		if derr != nil {
			if junk.allow(c.logger(), "stdio server wrote lines that are not JSON-RPC; skipped") {
				c.logger().Warn("stdio server wrote a line that is not JSON-RPC; skipped", "err", derr.Message, "line", truncate(line, 200))
			}
			continue
		}
		if !batch {
			c.route(msgs[0], bytes.Clone(line))
			continue
		}
		for _, m := range msgs {
			c.route(m, encode(m))
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		c.logger().Error("stdio server wrote a message over MaxMessageBytes; ending its session", "max_bytes", c.b.opts.MaxMessageBytes)
		signalGroup(c.pid, true)
	}
}

// route delivers one message of the child's; raw is its encoding, owned
// by route.
func (c *child) route(m *jsonrpc.Message, raw []byte) {
	if m.Kind == jsonrpc.KindResponse {
		c.mu.Lock()
		if !c.initDone && bytes.Equal(m.ID, initID) {
			c.initDone = true
			c.mu.Unlock()
			c.initResp <- m // cap 1, sent once
			return
		}
		p := c.pending[string(m.ID)]
		if p != nil {
			delete(c.pending, string(m.ID))
			if p.token != "" && c.tokens[p.token] == p {
				delete(c.tokens, p.token)
			}
		}
		c.mu.Unlock()
		if p == nil {
			c.logger().Debug("stdio server answered no request in flight (cancelled?); dropped", "id", string(m.ID))
			return
		}
		p.resp <- m // cap 1, and this is the only send now that it left pending
		return
	}
	var out mcp.Outbound
	c.mu.Lock()
	if m.Method == "notifications/progress" {
		if tok := notificationToken(m.Params); tok != nil {
			if p := c.tokens[string(tok)]; p != nil {
				out = p.out
			}
		}
	}
	if out == nil && len(c.pending) == 1 {
		for _, p := range c.pending {
			out = p.out
		}
	}
	c.mu.Unlock()
	if out != nil && out.Send(raw) == nil {
		return
	}
	c.sendStandalone(raw)
}

// sendStandalone sends msg on the session's GET stream, or holds it (in
// order, within MaxPendingMessages) until the session can take it.
func (c *child) sendStandalone(msg []byte) { c.out.Send(msg) }

// flush sends what the child sent early, once the session can take it.
// Client-driven calls flush first, so early messages keep their place in
// the order.
func (c *child) flush() { c.out.Flush() }

// readStderr logs the child's stderr line by line, at most
// StderrLinesPerSecond a second. Owner: the Bridge; exit: EOF.
func (c *child) readStderr() {
	defer c.stderr.Close()
	r := bufio.NewReaderSize(c.stderr, 4096)
	lines := limiter{perSecond: c.b.opts.StderrLinesPerSecond}
	const dropped = "stdio server stderr: lines not logged (StderrLinesPerSecond)"
	defer lines.flush(c.logger(), dropped)
	for {
		line, more, err := r.ReadLine()
		if err != nil {
			break
		}
		text := string(line)
		for more && err == nil { // a line over 4 KiB: keep its start
			_, more, err = r.ReadLine()
		}
		if lines.allow(c.logger(), dropped) {
			c.logger().Info("stdio server stderr", "line", text)
		}
		if err != nil {
			break
		}
	}
}

// A limiter lets at most perSecond log lines through per one-second
// window and reports how many it held back. One goroutine uses it.
type limiter struct {
	perSecond int
	window    time.Time
	n, held   int
}

// allow reports whether one more line may be logged now; when a window
// ends with lines held back, it logs msg with their count first.
func (l *limiter) allow(log *slog.Logger, msg string) bool {
	if now := time.Now(); now.Sub(l.window) >= time.Second {
		l.flush(log, msg)
		l.window, l.n = now, 0
	}
	if l.n < l.perSecond {
		l.n++
		return true
	}
	l.held++
	return false
}

// flush logs msg with the count of lines held back, if any.
func (l *limiter) flush(log *slog.Logger, msg string) {
	if l.held > 0 {
		log.Warn(msg, "lines", l.held)
		l.held = 0
	}
}

// wait reaps the process, makes sure its process group is gone and its
// stdout drained, then ends the session (if the child exited on its own,
// the client's next request gets 404) and frees the slot. Owner: the
// Bridge; exit: after the process has exited.
func (c *child) wait() {
	err := c.cmd.Wait()
	signalGroup(c.pid, true) // what it left behind in its group holds our pipes
	t := time.NewTimer(c.b.opts.StopTimeout)
	select {
	case <-c.readDone:
	case <-t.C: // a descendant in another group holds stdout
		c.stdout.Close()
		<-c.readDone
	}
	t.Stop()
	c.stdin.Close()

	c.mu.Lock()
	c.dead = true
	st, stopping := c.st, c.stopping
	c.mu.Unlock()
	close(c.exited)

	if stopping {
		c.b.stopped.Add(1)
		c.logger().Debug("stdio server stopped", "exit", exitString(err))
	} else {
		c.b.exited.Add(1)
		if st != nil {
			c.logger().Warn("stdio server exited; ending its session", "exit", exitString(err))
		} else {
			c.logger().Warn("stdio server exited during initialize", "exit", exitString(err))
		}
	}
	if st != nil {
		st.Close() // the transport ends the session: 404 from now on
	}
	c.b.children.Remove(c)
	c.b.live.Add(-1)
}

func exitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// stop ends the child because its session ended: stdin is closed, then
// SIGTERM and SIGKILL follow StopTimeout apart (2025-11-25
// basic/transports §stdio, shutdown). It does not block.
func (c *child) stop() {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.stopping = !c.dead
		c.mu.Unlock()
		c.b.goTracked(c.terminate)
	})
}

// terminate escalates until the process has exited. Owner: the Bridge;
// exit: the process exited (at the latest after SIGKILL).
func (c *child) terminate() {
	c.stdin.Close()
	t := time.NewTimer(c.b.opts.StopTimeout)
	defer t.Stop()
	select {
	case <-c.exited:
		return
	case <-t.C:
	}
	c.logger().Warn("stdio server did not exit when its input closed; sending SIGTERM", "after", c.b.opts.StopTimeout)
	signalGroup(c.pid, false)
	t.Reset(c.b.opts.StopTimeout)
	select {
	case <-c.exited:
		return
	case <-t.C:
	}
	c.logger().Warn("stdio server ignored SIGTERM; sending SIGKILL", "after", c.b.opts.StopTimeout)
	signalGroup(c.pid, true)
}

// notificationToken returns the raw progressToken of notifications/progress
// params, or nil.
func notificationToken(params []byte) []byte {
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if jsonrpc.Unmarshal(params, &p) != nil || len(p.ProgressToken) == 0 {
		return nil
	}
	return p.ProgressToken
}

// encode re-encodes a decoded message (a member of a batch).
func encode(m *jsonrpc.Message) []byte {
	switch m.Kind {
	case jsonrpc.KindRequest:
		return jsonrpc.AppendRequest(nil, m.ID, m.Method, m.Params)
	case jsonrpc.KindNotification:
		return jsonrpc.AppendNotification(nil, m.Method, m.Params)
	}
	if m.Error != nil {
		return jsonrpc.AppendError(nil, m.ID, m.Error)
	}
	return jsonrpc.AppendResult(nil, m.ID, m.Result)
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
