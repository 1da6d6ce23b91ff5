package transport

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"
	"golang.org/x/tools/txtar"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/mcp"
)

var update = flag.Bool("update", false, "rewrite the responses of testdata/transcripts/*.txtar from what the server answers")

// TestTranscripts replays the golden protocol transcripts in
// testdata/transcripts against the real stack: [NewHandler] behind
// [NewApp] on a [Listener] over an in-memory listener, each transcript
// inside its own synctest bubble, so that SSE delivery, tool intervals and
// keep-alives happen in fake time and in a deterministic order.
//
// A transcript is a txtar archive. Its comment says what it covers and
// which bugs it pins. An optional "server" section sets the server up, one
// "key: value" a line:
//
//	catalog: default | conformance   (default: catalog.Default and the test tools of newBackend)
//	maxSessions: 1                   (Options.Sessions.MaxSessions)
//	retryAfter: 2s                   (Options.RetryAfter)
//	maxBodyBytes: 1024               (Options.MaxBodyBytes)
//
// Then come numbered exchanges, "NN request" and "NN response". A request
// is a method and a path, header lines, a blank line and the body; the
// runner adds Host and Content-Length and sends it on a new connection.
// Lines before the method that start with '#' are directives:
//
//	# open       read the answer only until every goroutine is blocked,
//	             and keep the connection open (a GET stream)
//	# close-after N
//	             close the connection after the answer's N-th data event
//	# read NN    send nothing: read the rest of exchange NN's answer
//
// A response holds the status line, the headers that matter
// (transcriptHeaders), a blank line and the body: JSON canonicalised
// (keys sorted), SSE events field by field with their data canonicalised,
// and "(open)" last for a stream still open. Session IDs are written as
// {{sid}}, {{sid2}}, …, in the order the server issues them, and requests
// use the same names.
//
// go test ./transport -run TestTranscripts -update rewrites the responses.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			inBubble(t, func(t *testing.T) { runTranscript(t, ar) })
			if *update {
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// transcriptHeaders are the response headers a transcript records.
var transcriptHeaders = []string{"Content-Type", "Mcp-Session-Id", "Allow", "Retry-After", "Connection"}

// runTranscript serves the transcript's exchanges in order and checks, or
// with -update rewrites, each response section of ar.
func runTranscript(t *testing.T, ar *txtar.Archive) {
	opts, newBackendFor := transcriptServer(t, ar)
	ts := &testServer{gates: make(map[string]*gate)}
	ts.h = NewHandler(newBackendFor(ts), opts)
	ts.app = NewApp(ts.h)
	r := &transcriptRun{t: t, conns: map[string]*transcriptConn{}}
	r.ln, _ = serveInmemory(t, ts.h, ts.app)
	t.Cleanup(func() { // runs first: the client goes, the calls end
		for _, c := range r.conns {
			c.conn.Close()
		}
		ts.releaseGates()
	})
	var got []txtar.File
	for _, f := range ar.Files {
		num, kind, ok := strings.Cut(f.Name, " ")
		switch {
		case f.Name == "server" || ok && kind == "response":
			continue
		case !ok || kind != "request":
			t.Fatalf("section %q: want \"server\", \"NN request\" or \"NN response\"", f.Name)
		}
		got = append(got, f, txtar.File{Name: num + " response", Data: []byte(r.exchange(num, string(f.Data)))})
	}

	want := map[string]string{}
	for _, f := range ar.Files {
		if strings.HasSuffix(f.Name, " response") {
			want[f.Name] = string(f.Data)
		}
	}
	for _, f := range got {
		if w := want[f.Name]; strings.HasSuffix(f.Name, " response") && string(f.Data) != w && !*update {
			t.Errorf("exchange %s:\n--- got\n%s--- want\n%s", f.Name, f.Data, w)
		}
	}
	if *update {
		var files []txtar.File
		if i := slices.IndexFunc(ar.Files, func(f txtar.File) bool { return f.Name == "server" }); i >= 0 {
			files = append(files, ar.Files[i])
		}
		ar.Files = append(files, got...)
	}
}

// transcriptServer reads the "server" section: the Handler's options and
// the backend to build inside the bubble.
func transcriptServer(t *testing.T, ar *txtar.Archive) (*Options, func(*testServer) mcp.Backend) {
	opts := &Options{Logger: discardLogger}
	backend := func(ts *testServer) mcp.Backend { return newBackend(ts) }
	for _, f := range ar.Files {
		if f.Name != "server" {
			continue
		}
		for line := range strings.Lines(string(f.Data)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			v = strings.TrimSpace(v)
			var err error
			switch k {
			case "":
			case "catalog":
				if v == "conformance" {
					backend = func(*testServer) mcp.Backend {
						o := &mcp.ServerOptions{Logger: discardLogger}
						catalog.ConformanceOptions(o)
						s := mcp.NewServer(mcp.Implementation{Name: "transcript", Version: "0"}, o)
						catalog.Conformance(s)
						return s
					}
				}
			case "maxSessions":
				opts.Sessions.MaxSessions, err = strconv.Atoi(v)
			case "maxBodyBytes":
				opts.MaxBodyBytes, err = strconv.Atoi(v)
			case "retryAfter":
				opts.RetryAfter, err = time.ParseDuration(v)
			default:
				err = fmt.Errorf("unknown key")
			}
			if err != nil {
				t.Fatalf("server section, %q: %v", line, err)
			}
		}
	}
	return opts, backend
}

// A transcriptRun is the client side of one transcript.
type transcriptRun struct {
	t     *testing.T
	ln    *fasthttputil.InmemoryListener
	conns map[string]*transcriptConn // by exchange number
	sids  []string                   // session IDs, in the order issued
}

// A transcriptConn is one client connection and what it has read so far.
type transcriptConn struct {
	conn   net.Conn
	method string
	more   chan struct{} // a token when bytes arrived
	shown  string        // the answer as the last exchange on it showed it

	mu  sync.Mutex   // guards the fields below
	buf bytes.Buffer // everything read
	eof bool         // the server closed the connection
}

func (c *transcriptConn) read() { // owner: the transcript; exit: the connection closes
	b := make([]byte, 4096)
	for {
		n, err := c.conn.Read(b)
		c.mu.Lock()
		c.buf.Write(b[:n])
		c.eof = err != nil
		c.mu.Unlock()
		select {
		case c.more <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (c *transcriptConn) snapshot() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes()), c.eof
}

// exchange sends one request (or reads on, for "# read") and returns the
// response section.
func (r *transcriptRun) exchange(num, text string) string {
	t := r.t
	var (
		open       bool
		closeAfter int
		c          *transcriptConn
	)
	for strings.HasPrefix(text, "#") {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		f := strings.Fields(strings.TrimPrefix(line, "#"))
		switch {
		case len(f) == 1 && f[0] == "open":
			open = true
		case len(f) == 2 && f[0] == "close-after":
			closeAfter, _ = strconv.Atoi(f[1])
		case len(f) == 2 && f[0] == "read":
			if c = r.conns[f[1]]; c == nil {
				t.Fatalf("exchange %s: # read %s: no such exchange", num, f[1])
			}
		default:
			t.Fatalf("exchange %s: unknown directive %q", num, line)
		}
	}
	if c == nil {
		conn, err := r.ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		c = &transcriptConn{conn: conn, more: make(chan struct{}, 1)}
		r.conns[num] = c
		go c.read()
		var raw []byte
		c.method, raw = r.rawRequest(num, text)
		if _, err := conn.Write(raw); err != nil {
			t.Fatalf("exchange %s: writing the request: %v", num, err)
		}
	}

	// Read until the answer is complete, the connection ends, or (# open)
	// nothing moves; fake time passes only while every goroutine waits.
	limit := time.After(10 * time.Minute)
	for {
		synctest.Wait()
		b, eof := c.snapshot()
		resp, complete, events := parseAnswer(b, c.method, eof)
		if closeAfter > 0 && events >= closeAfter {
			c.conn.Close()
			synctest.Wait()
			return r.format(c, resp, "(closed by the client)")
		}
		switch {
		case complete:
			return r.format(c, resp, "")
		case eof:
			return r.format(c, resp, "(connection closed)")
		case open:
			return r.format(c, resp, "(open)")
		}
		select {
		case <-c.more:
		case <-limit:
			t.Fatalf("exchange %s: the answer did not end within 10 minutes; so far:\n%s", num, b)
		}
	}
}

// rawRequest builds the bytes of a request section.
func (r *transcriptRun) rawRequest(num, text string) (method string, raw []byte) {
	text = r.substitute(text)
	head, body, _ := strings.Cut(text, "\n\n")
	body = strings.TrimSuffix(body, "\n")
	lines := strings.Split(strings.TrimSuffix(head, "\n"), "\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		r.t.Fatalf("exchange %s: request line %q: want a method and a path", num, lines[0])
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: mcp.test\r\n", f[0], f[1])
	for _, l := range lines[1:] {
		b.WriteString(l + "\r\n")
	}
	if body != "" || f[0] == http.MethodPost {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return f[0], b.Bytes()
}

var placeholder = regexp.MustCompile(`\{\{sid(\d*)\}\}`)

// substitute replaces {{sid}}, {{sid2}}, … by the session IDs issued.
func (r *transcriptRun) substitute(s string) string {
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		n := 1
		if m := placeholder.FindStringSubmatch(p); m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		if n > len(r.sids) {
			r.t.Fatalf("%s: only %d sessions so far", p, len(r.sids))
		}
		return r.sids[n-1]
	})
}

// name returns the placeholder of session ID sid, naming it if it is new.
func (r *transcriptRun) name(sid string) string {
	i := slices.Index(r.sids, sid)
	if i < 0 {
		r.sids = append(r.sids, sid)
		i = len(r.sids) - 1
	}
	if i == 0 {
		return "{{sid}}"
	}
	return "{{sid" + strconv.Itoa(i+1) + "}}"
}

// parseAnswer reads the response in b as far as it goes: its head and
// body text, whether it is complete, and how many SSE data events it has.
//
// A body with neither Content-Length nor chunked framing (a GET stream on
// its hijacked connection) is complete when the connection ends (eof).
func parseAnswer(b []byte, method string, eof bool) (text string, complete bool, events int) {
	br := bufio.NewReader(bytes.NewReader(b))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return "", false, 0
	}
	body, err := io.ReadAll(resp.Body)
	complete = err == nil && (eof || resp.ContentLength >= 0 || len(resp.TransferEncoding) > 0)
	var head strings.Builder
	fmt.Fprintf(&head, "%s\n", resp.Status)
	for _, k := range transcriptHeaders {
		if v := resp.Header.Get(k); v != "" {
			fmt.Fprintf(&head, "%s: %s\n", k, v)
		}
	}
	if k := "Connection"; resp.Close && resp.Header.Get(k) == "" {
		fmt.Fprintf(&head, "%s: close\n", k)
	}
	head.WriteString("\n")
	if mediaType(resp.Header.Get("Content-Type")) == ctSSEValue {
		evs, n := sseText(body)
		return head.String() + evs, complete, n
	}
	if len(body) > 0 {
		head.WriteString(canonicalJSON(string(body)) + "\n")
	}
	return head.String(), complete, 0
}

// format replaces session IDs by their placeholders and adds state, the
// state of an answer that did not end, on a line of its own. Of an answer
// an earlier exchange showed in part, it shows only the rest, after a
// line "(continued)".
func (r *transcriptRun) format(c *transcriptConn, text, state string) string {
	shown := c.shown
	c.shown = text
	if rest, ok := strings.CutPrefix(text, shown); ok && shown != "" {
		text = "(continued)\n" + rest
		if state == "" {
			state = "(ended)"
		}
	}
	if state != "" {
		text += state + "\n"
	}
	return sessionID.ReplaceAllStringFunc(text, r.name)
}

// sessionID matches the session IDs a server issues (see
// [sessions.ValidID]).
var sessionID = regexp.MustCompile(`\b[0-9a-f]{32}\b`)

// sseText lists the events of an SSE body, a field a line and a blank
// line after each, data canonicalised, and counts those with data.
func sseText(body []byte) (string, int) {
	var b strings.Builder
	rd := newSSEReader(bytes.NewReader(body))
	n := 0
	for {
		e, err := rd.next()
		if err != nil {
			return b.String(), n
		}
		if e.Comment != "" {
			fmt.Fprintf(&b, ": %s\n", e.Comment)
		}
		if e.ID != "" {
			fmt.Fprintf(&b, "id: %s\n", e.ID)
		}
		if e.Retry != "" {
			fmt.Fprintf(&b, "retry: %s\n", e.Retry)
		}
		if e.Event != "" {
			fmt.Fprintf(&b, "event: %s\n", e.Event)
		}
		if e.HasData && e.Data == "" {
			b.WriteString("data:\n")
		} else if e.HasData {
			fmt.Fprintf(&b, "data: %s\n", canonicalJSON(e.Data))
			n++
		}
		b.WriteString("\n")
	}
}

// canonicalJSON returns s with its object keys sorted and no space, or s
// itself if it is not JSON.
func canonicalJSON(s string) string {
	var v any
	dec := stdjson.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	var out strings.Builder
	enc := stdjson.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return s
	}
	return strings.TrimSuffix(out.String(), "\n")
}
