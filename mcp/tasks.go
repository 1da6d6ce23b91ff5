package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// TasksExtension is the identifier of the tasks extension (SEP-2663) in
// capabilities.extensions at 2026-07-28.
const TasksExtension = "io.modelcontextprotocol/tasks"

// Task support levels of [ToolExecution].TaskSupport.
const (
	TaskSupportForbidden = "forbidden"
	TaskSupportOptional  = "optional"
	TaskSupportRequired  = "required"
)

// Task statuses (SEP-2663).
const (
	TaskWorking       = "working"
	TaskInputRequired = "input_required"
	TaskCompleted     = "completed"
	TaskFailed        = "failed"
	TaskCancelled     = "cancelled"
)

// TaskOptions configure the tasks extension (SEP-2663), served to
// 2026-07-28 requests whose client capabilities declare [TasksExtension].
//
// A tools/call of a tool whose Execution.TaskSupport is "optional" or
// "required" from such a client may become a task: the server answers
// with a CreateTaskResult (resultType "task") and the handler goes on in
// the background; the client polls tasks/get (the result or error is
// inlined once terminal), answers input requests with tasks/update and
// stops the task with tasks/cancel. The call becomes a task when the
// handler calls [CallToolRequest.RunAsTask], when it asks the client for
// input ([Request.Elicit], [Request.CreateMessage], [Request.ListRoots]),
// or when it has not finished within SyncWindow; a handler that finishes
// (or returns input requests) sooner is answered at once. 2026-07-28
// clients without the extension get synchronous calls, and -32021 for
// "required" tools.
//
// The same tasks serve 2025-11-25 sessions, in that revision's
// experimental form (basic/utilities/tasks): the server declares the
// tasks capability, a tools/call with params.task becomes a task at once,
// and the session has tasks/get, tasks/result, tasks/list, tasks/cancel
// and notifications/tasks/status on its GET stream, where the handler's
// requests for input go too. A session sees only its own tasks; they end
// with it. 2025-06-18 and 2025-03-26 sessions get synchronous calls and no
// tasks/* methods.
type TaskOptions struct {
	// TTL is how long a task stays readable with tasks/get after it was
	// created (ttlMs); a task still running then is cancelled. A
	// 2025-11-25 client may ask for less (params.task.ttl). Default: 1h.
	TTL time.Duration
	// PollInterval is the pollIntervalMs suggested to clients. Default:
	// 500ms.
	PollInterval time.Duration
	// SyncWindow is how long a call may run before it becomes a task.
	// Default: 100ms.
	SyncWindow time.Duration
	// MaxTasks caps the tasks kept; past it, tools/call that would create
	// a task fails with an internal error. Default: 10000.
	MaxTasks int
}

func (o TaskOptions) withDefaults() TaskOptions {
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.SyncWindow <= 0 {
		o.SyncWindow = 100 * time.Millisecond
	}
	if o.MaxTasks <= 0 {
		o.MaxTasks = 10000
	}
	return o
}

// A taskStore keeps the tasks of a Server.
type taskStore struct {
	s    *Server
	opts TaskOptions

	mu    sync.Mutex // guards tasks
	tasks map[string]*task
}

func newTaskStore(s *Server, o *TaskOptions) *taskStore {
	return &taskStore{s: s, opts: o.withDefaults(), tasks: make(map[string]*task)}
}

// Task phases: a call runs synchronously until it finishes or becomes a
// task, whichever comes first.
const (
	phasePending  = iota // running; the caller waits
	phaseTask            // a task: stored, answered with CreateTaskResult
	phaseDoneSync        // finished while pending: answered directly
)

// A task is one tools/call that runs in the background.
type task struct {
	store     *taskStore
	id        string
	created   time.Time
	ttl       time.Duration // how long it stays readable after created
	cancel    context.CancelFunc
	announced chan struct{} // closed when the call becomes a task
	done      chan struct{} // closed when the status becomes terminal
	// owner is the 2025-11-25 session the task belongs to (only it finds
	// the task, and it is sent notifications/tasks/status); nil for a
	// 2026-07-28 task.
	owner *SessionState
	// principal is who created a 2026-07-28 task (the access token's
	// issuer and subject, with authorization on): only requests of the
	// same principal find it. nil without authorization.
	principal *Principal

	mu      sync.Mutex // guards the fields below
	phase   int
	status  string
	updated time.Time
	message string
	result  []byte         // completed: the encoded CallToolResult
	err     *jsonrpc.Error // failed
	inputs  map[string]*taskInput
	nextKey int
}

// A taskInput is an input request the task waits on.
type taskInput struct {
	req *InputRequest
	ch  chan json.RawMessage // buffered; gets the client's answer once
}

// newTaskID returns a new task ID: ServerOptions.RequestIDPrefix (the
// node, with a session store) and 128 random bits in hex.
func (ts *taskStore) newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return ts.s.opts.RequestIDPrefix + hex.EncodeToString(b[:])
}

// taskNode returns the RequestIDPrefix of the process that made the task
// id, or "" if id has none.
func taskNode(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		return id[:i+1]
	}
	return ""
}

// forwardTask passes c, a 2026-07-28 tasks/* request for a task this
// process does not hold, to the process that made it, if there is one
// other than this (see ServerOptions.ForwardTask). ok is false when the
// request is not to be forwarded.
func (s *Server) forwardTask(c *Call, id string) (result []byte, jerr *jsonrpc.Error, ok bool) {
	node := taskNode(id)
	if s.opts.ForwardTask == nil || !c.Session.stateless || node == "" || node == s.opts.RequestIDPrefix {
		return nil, nil, false
	}
	result, jerr = s.opts.ForwardTask(c.Session.ctx, node, &StatelessCall{Method: c.Method, ID: c.ID, Params: c.Params, Headers: c.headers, Principal: c.Principal})
	return result, jerr, true
}

// toTask makes a pending call a task, storing it first so that tasks/get
// finds it as soon as the client learns its ID. It reports whether the
// call is a task (now or already); false means it finished synchronously
// or the store is full.
func (t *task) toTask() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.phase {
	case phaseTask:
		return true
	case phaseDoneSync:
		return false
	}
	if !t.store.add(t) {
		return false
	}
	t.phase = phaseTask
	close(t.announced)
	return true
}

// finishSync claims a pending call's outcome for the synchronous answer;
// false means the call is a task and the outcome goes to the task.
func (t *task) finishSync() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.phase == phasePending {
		t.phase = phaseDoneSync
		return true
	}
	return t.phase == phaseDoneSync
}

func (t *task) terminal() bool {
	switch t.status {
	case TaskCompleted, TaskFailed, TaskCancelled:
		return true
	}
	return false
}

// settle records the task's outcome unless it already ended (a cancelled
// task stays cancelled).
func (t *task) settle(status string, result []byte, err *jsonrpc.Error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.terminal() {
		return
	}
	t.status, t.result, t.err = status, result, err
	t.inputs = nil
	t.updated = time.Now()
	close(t.done)
	t.changed()
}

// ask parks the task on input requests until the client answers each
// with tasks/update, and returns the answers by key.
func (t *task) ask(ctx context.Context, reqs InputRequests) (InputResponses, error) {
	if t.owner != nil {
		return t.askSession(ctx, reqs)
	}
	if !t.toTask() {
		return nil, errors.New("mcp: the call cannot become a task (too many tasks)")
	}
	t.mu.Lock()
	if t.terminal() {
		t.mu.Unlock()
		return nil, context.Canceled
	}
	if t.inputs == nil {
		t.inputs = make(map[string]*taskInput)
	}
	waits := make(map[string]*taskInput, len(reqs))
	for k, r := range reqs {
		in := &taskInput{req: r, ch: make(chan json.RawMessage, 1)}
		t.inputs[k] = in
		waits[k] = in
	}
	t.status, t.updated = TaskInputRequired, time.Now()
	t.changed()
	t.mu.Unlock()

	answers := make(InputResponses, len(waits))
	for k, in := range waits {
		select {
		case raw := <-in.ch:
			answers[k] = raw
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return answers, nil
}

// askOne parks the task on one input request with a key of its own.
func (t *task) askOne(ctx context.Context, method string, params any) (json.RawMessage, error) {
	t.mu.Lock()
	t.nextKey++
	key := "input-" + strconv.Itoa(t.nextKey)
	t.mu.Unlock()
	answers, err := t.ask(ctx, InputRequests{key: {Method: method, Params: params}})
	if err != nil {
		return nil, err
	}
	return answers[key], nil
}

// answer delivers tasks/update responses to the input requests they name;
// unknown keys are ignored. Once nothing is pending the task is working
// again.
func (t *task) answer(responses InputResponses) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, raw := range responses {
		in := t.inputs[k]
		if in == nil {
			continue
		}
		delete(t.inputs, k)
		in.ch <- raw
	}
	if t.status == TaskInputRequired && len(t.inputs) == 0 {
		t.status = TaskWorking
		t.changed()
	}
	t.updated = time.Now()
}

// add stores t, dropping expired tasks first; false when the store is
// full.
func (ts *taskStore) add(t *task) bool {
	now := time.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for id, o := range ts.tasks {
		if o.expired(now) {
			o.cancel()
			delete(ts.tasks, id)
		}
	}
	if len(ts.tasks) >= ts.opts.MaxTasks {
		return false
	}
	ts.tasks[t.id] = t
	return true
}

// get returns the live task id, or nil.
func (ts *taskStore) get(id string) *task {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.tasks[id]
	if t != nil && t.expired(time.Now()) {
		t.cancel()
		delete(ts.tasks, id)
		return nil
	}
	return t
}

// close cancels every task (Server.Close).
func (ts *taskStore) close() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for id, t := range ts.tasks {
		t.cancel()
		delete(ts.tasks, id)
	}
}

// maybeTask runs a tools/call that may become a task: a 2026-07-28
// request for a task-supporting tool. It reports false when the call is
// an ordinary one; "required" tools from clients without the extension
// get -32021 (SEP-2663 §Required Capabilities).
func (ts *taskStore) maybeTask(c *Call, t *serverTool, p *CallToolParams, bind string) ([]byte, *jsonrpc.Error, bool) {
	st := c.Session
	if !st.stateless {
		return ts.maybeSessionTask(c, t, p, bind)
	}
	ex := t.tool.Execution
	if ex == nil || (ex.TaskSupport != TaskSupportOptional && ex.TaskSupport != TaskSupportRequired) {
		return nil, nil, false
	}
	if !st.ClientCapabilities.HasExtension(TasksExtension) {
		if ex.TaskSupport == TaskSupportRequired {
			return nil, MissingCapabilityError(fmt.Sprintf("tool %q runs only as a task: declare the %s extension", p.Name, TasksExtension),
				map[string]any{"extensions": map[string]any{TasksExtension: map[string]any{}}}), true
		}
		return nil, nil, false
	}
	s := ts.s
	now := time.Now()
	taskCtx, cancel := context.WithCancel(context.Background())
	tk := &task{store: ts, id: ts.newTaskID(), created: now, updated: now, ttl: ts.opts.TTL, cancel: cancel,
		announced: make(chan struct{}), done: make(chan struct{}), status: TaskWorking, principal: c.Principal}
	// Until the call becomes a task, the client closing the request
	// cancels it; after, only tasks/cancel and the TTL do.
	unlink := context.AfterFunc(st.ctx, cancel)
	rec := st.Record() // the request's version, client and log level
	taskSt := newStatelessState(taskCtx, &rec)
	out := &taskOutbound{out: c.Out}
	tc := &Call{Session: taskSt, Method: c.Method, ID: c.ID, Params: c.Params, Out: out}
	req := &CallToolRequest{Params: p, Request: s.newRequest(tc, p.Meta)}
	req.task = tk

	type outcome struct {
		b    []byte
		jerr *jsonrpc.Error
		sync bool
	}
	done := make(chan outcome, 1)
	go func() { // owner: the task; exit: the handler returns (tasks/cancel, the TTL or Server.Close cancel it)
		defer cancel()
		defer taskSt.Close()
		b, jerr, sync := ts.run(taskCtx, req, t, tk, bind)
		done <- outcome{b, jerr, sync}
	}()
	timer := time.NewTimer(ts.opts.SyncWindow)
	defer timer.Stop()
	select {
	case o := <-done:
		if o.sync {
			unlink()
			return o.b, o.jerr, true
		}
	case <-tk.announced:
	case <-timer.C:
		if !tk.toTask() {
			o := <-done
			unlink()
			return o.b, o.jerr, true
		}
	}
	unlink()
	out.detach()
	return ts.createResult(tk), nil, true
}

// run runs a task-capable handler, round after round, and either returns
// the synchronous answer (sync true) or records the task's outcome.
func (ts *taskStore) run(ctx context.Context, req *CallToolRequest, t *serverTool, tk *task, bind string) ([]byte, *jsonrpc.Error, bool) {
	s := ts.s
	for round := 0; ; round++ {
		res, err := safeTool(ctx, t.handler, req)
		if ctx.Err() != nil {
			if tk.finishSync() {
				return nil, ErrNoResponse, true
			}
			tk.settle(TaskCancelled, nil, nil)
			return nil, nil, false
		}
		if err != nil {
			var je *jsonrpc.Error
			if errors.As(err, &je) {
				if tk.finishSync() {
					return nil, je, true
				}
				tk.settle(TaskFailed, nil, je)
				return nil, nil, false
			}
			res = &CallToolResult{Content: []Content{TextContent(err.Error())}, IsError: true}
		}
		if res == nil {
			res = &CallToolResult{}
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			if tk.finishSync() {
				// Before the task exists, input goes the MRTR way.
				b, _, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
				return b, jerr, true
			}
			if round >= maxInputRounds || !validInputRequests(res.InputRequests) {
				tk.settle(TaskFailed, nil, internalError("the handler asked for input too often, or for an unknown kind of input"))
				return nil, nil, false
			}
			if missing := requiredFor(res.InputRequests, &req.Session.ClientCapabilities); missing != nil {
				tk.settle(TaskFailed, nil, MissingCapabilityError("the task needs client capabilities the client did not declare", missing))
				return nil, nil, false
			}
			answers, err := tk.ask(ctx, res.InputRequests)
			if err != nil {
				if ctx.Err() == nil { // a 2025-11-25 session's client failed or timed out
					tk.settle(TaskFailed, nil, internalError(err.Error()))
					return nil, nil, false
				}
				continue // cancelled: the next round reports it
			}
			req.Params.InputResponses, req.Params.RequestState = answers, res.RequestState
			continue
		}
		if res.Content == nil {
			res.Content = []Content{}
		}
		res.CacheHints = s.withHints(req.Session, res.CacheHints, false)
		b, jerr := encode(res)
		if tk.finishSync() {
			return b, jerr, true
		}
		if jerr != nil {
			tk.settle(TaskFailed, nil, jerr)
		} else {
			tk.settle(TaskCompleted, b, nil)
		}
		return nil, nil, false
	}
}

// taskOutbound carries a call's notifications while it runs
// synchronously; once it is a task they are dropped (its request has been
// answered).
type taskOutbound struct {
	mu  sync.Mutex
	out Outbound
}

func (o *taskOutbound) Send(msg []byte) error {
	o.mu.Lock()
	out := o.out
	o.mu.Unlock()
	if out == nil {
		return nil
	}
	return out.Send(msg)
}

func (o *taskOutbound) detach() {
	o.mu.Lock()
	o.out = nil
	o.mu.Unlock()
}

// RunAsTask turns the call into a task now, when the request allows it
// (a 2026-07-28 client that declared the tasks extension, a tool with
// task support): the client is answered with CreateTaskResult and the
// handler goes on in the background. It reports whether the call is a
// task.
func (r *CallToolRequest) RunAsTask() bool {
	return r.task != nil && r.task.toTask()
}

// taskEnvelope is the wire form of a task (SEP-2663): CreateTaskResult
// (resultType "task") and, with result, error or inputRequests,
// tasks/get's DetailedTask (resultType "complete").
type taskEnvelope struct {
	ResultType     string          `json:"resultType"`
	TaskID         string          `json:"taskId"`
	Status         string          `json:"status"`
	StatusMessage  string          `json:"statusMessage,omitempty"`
	CreatedAt      string          `json:"createdAt"`
	LastUpdatedAt  string          `json:"lastUpdatedAt"`
	TTLMs          int64           `json:"ttlMs"`
	PollIntervalMs int64           `json:"pollIntervalMs"`
	InputRequests  InputRequests   `json:"inputRequests,omitempty"`
	Result         json.RawMessage `json:"result,omitempty"`
	Error          *jsonrpc.Error  `json:"error,omitempty"`
	Meta           Meta            `json:"_meta,omitempty"`
}

const isoMillis = "2006-01-02T15:04:05.000Z07:00"

func (ts *taskStore) envelope(t *task, resultType string, detailed bool) taskEnvelope {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := taskEnvelope{
		ResultType:     resultType,
		TaskID:         t.id,
		Status:         t.status,
		StatusMessage:  t.message,
		CreatedAt:      t.created.UTC().Format(isoMillis),
		LastUpdatedAt:  t.updated.UTC().Format(isoMillis),
		TTLMs:          t.ttl.Milliseconds(),
		PollIntervalMs: ts.opts.PollInterval.Milliseconds(),
		Meta:           Meta{MetaServerInfo: ts.s.impl},
	}
	if !detailed {
		return e
	}
	switch t.status {
	case TaskInputRequired:
		e.InputRequests = make(InputRequests, len(t.inputs))
		for k, in := range t.inputs {
			e.InputRequests[k] = in.req
		}
	case TaskCompleted:
		e.Result = t.result
	case TaskFailed:
		e.Error = t.err
	}
	return e
}

func (ts *taskStore) createResult(t *task) []byte {
	b, _ := jsonrpc.Marshal(ts.envelope(t, "task", false))
	return b
}

// getTask answers tasks/get, updateTask tasks/update and cancelTask
// tasks/cancel (SEP-2663; tasks/result and tasks/list are gone). They
// need the extension in the request's client capabilities (-32021
// otherwise), and a known task ID (-32602 otherwise).
func (s *Server) getTask(c *Call) ([]byte, *jsonrpc.Error) {
	t, _, jerr := s.tasks.find(c)
	if jerr != nil {
		return s.orForward(c, jerr)
	}
	if t.owner != nil {
		return encode(t.wire())
	}
	return encode(s.tasks.envelope(t, ResultTypeComplete, true))
}

func (s *Server) updateTask(c *Call) ([]byte, *jsonrpc.Error) {
	t, answers, jerr := s.tasks.find(c)
	if jerr != nil {
		return s.orForward(c, jerr)
	}
	t.answer(answers)
	return s.tasks.ack()
}

func (s *Server) cancelTask(c *Call) ([]byte, *jsonrpc.Error) {
	t, _, jerr := s.tasks.find(c)
	if jerr != nil {
		return s.orForward(c, jerr)
	}
	if t.owner != nil {
		return s.tasks.cancelSessionTask(t)
	}
	t.cancelNow()
	return s.tasks.ack()
}

// cancelNow marks t cancelled unless it already ended, and cancels its
// handler; it reports whether t was still running.
func (t *task) cancelNow() bool {
	t.mu.Lock()
	running := !t.terminal()
	if running {
		t.status, t.updated, t.inputs = TaskCancelled, time.Now(), nil
		close(t.done)
		t.changed()
	}
	t.mu.Unlock()
	t.cancel()
	return running
}

// find returns the task a tasks/* request names, and the request's
// inputResponses.
func (ts *taskStore) find(c *Call) (*task, InputResponses, *jsonrpc.Error) {
	if c.Session.stateless && !c.Session.ClientCapabilities.HasExtension(TasksExtension) {
		return nil, nil, MissingCapabilityError(c.Method+" needs the "+TasksExtension+" extension",
			map[string]any{"extensions": map[string]any{TasksExtension: map[string]any{}}})
	}
	var p struct {
		TaskID         string         `json:"taskId"`
		InputResponses InputResponses `json:"inputResponses"`
	}
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.TaskID == "" {
		return nil, nil, invalidParams(c.Method + " needs params with a taskId")
	}
	t := ts.get(p.TaskID)
	if t == nil || !t.ownedBy(c.Session, c.Principal) {
		return nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "unknown task: " + p.TaskID, Data: unknownTaskData(p.TaskID)}
	}
	return t, p.InputResponses, nil
}

// unknownTaskData marks the error of find for an unknown task, so that
// the tasks/* handlers can tell it from the others and forward the
// request (forwardTask). It is not sent: the handlers drop it.
func unknownTaskData(string) json.RawMessage { return json.RawMessage(`{"unknownTask":true}`) }

// taskMissing reports whether jerr is find's error for an unknown task.
func taskMissing(jerr *jsonrpc.Error) bool {
	return jerr != nil && jerr.Code == jsonrpc.CodeInvalidParams && string(jerr.Data) == `{"unknownTask":true}`
}

// orForward returns the answer to c when find failed with jerr: the
// answer of the process that made the task, if the task is another's,
// else jerr (without its marker).
func (s *Server) orForward(c *Call, jerr *jsonrpc.Error) ([]byte, *jsonrpc.Error) {
	if !taskMissing(jerr) {
		return nil, jerr
	}
	var p struct {
		TaskID string `json:"taskId"`
	}
	_ = jsonrpc.Unmarshal(c.Params, &p)
	if res, ferr, ok := s.forwardTask(c, p.TaskID); ok {
		return res, ferr
	}
	return nil, invalidParams(jerr.Message)
}

// ack is the result of tasks/update and tasks/cancel.
func (ts *taskStore) ack() ([]byte, *jsonrpc.Error) {
	return encode(map[string]any{"resultType": ResultTypeComplete, "_meta": Meta{MetaServerInfo: ts.s.impl}})
}

// Tasks at 2025-11-25 (basic/utilities/tasks, experimental): the same
// store and lifecycle as the 2026-07-28 extension, with that revision's
// shapes. A session at 2025-11-25 asks for a task with params.task on
// tools/call and is answered at once with CreateTaskResult ({task});
// tasks/get and tasks/cancel answer the Task itself, tasks/result waits
// for the outcome, tasks/list lists the session's tasks, and each status
// change is sent as notifications/tasks/status on the session's GET
// stream. Tasks belong to their session: other sessions (and 2026-07-28
// requests) do not find them, and they end with it. Older sessions have
// no tasks.

// MetaRelatedTask is the _meta key that ties a message to a task
// (2025-11-25 basic/utilities/tasks §Associating Task-Related Messages):
// tasks/result's result carries {"taskId": ...} under it.
const MetaRelatedTask = "io.modelcontextprotocol/related-task"

// TasksCapability is the experimental tasks capability a server declares
// at 2025-11-25 (basic/utilities/tasks §Capabilities): tasks/list,
// tasks/cancel, and which requests may be augmented with a task
// (requests.tools.call).
type TasksCapability struct {
	List     *struct{}      `json:"list,omitempty"`
	Cancel   *struct{}      `json:"cancel,omitempty"`
	Requests map[string]any `json:"requests,omitempty"`
}

// sessionCapability is what a 2025-11-25 session is declared: tasks/list
// and tasks/cancel, and task-augmented tools/call when the server has
// tools.
func (ts *taskStore) sessionCapability(tools bool) *TasksCapability {
	c := &TasksCapability{List: &struct{}{}, Cancel: &struct{}{}}
	if tools {
		c.Requests = map[string]any{"tools": map[string]any{"call": map[string]any{}}}
	}
	return c
}

// expired reports whether t is past its TTL, or its session ended.
func (t *task) expired(now time.Time) bool {
	return !now.Before(t.created.Add(t.ttl)) || (t.owner != nil && t.owner.ctx.Err() != nil)
}

// ownedBy reports whether a request of st, sent by p, may see t: a
// session sees its own tasks (the session is bound to its principal), a
// 2026-07-28 request those of no session that the same principal made
// (2025-11-25 basic/authorization: a token of another user must not reach
// them; unknown to it, as a task ID that does not exist).
func (t *task) ownedBy(st *SessionState, p *Principal) bool {
	if st.stateless {
		return t.owner == nil && t.principal.Same(p)
	}
	return t.owner == st
}

// wireTask is a Task at 2025-11-25 (basic/utilities/tasks §Task): the
// result of tasks/get and tasks/cancel, the task of CreateTaskResult and
// of tasks/list, the params of notifications/tasks/status. ttl and
// pollInterval are milliseconds.
type wireTask struct {
	TaskID        string `json:"taskId"`
	Status        string `json:"status"`
	StatusMessage string `json:"statusMessage,omitempty"`
	CreatedAt     string `json:"createdAt"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	TTL           int64  `json:"ttl"`
	PollInterval  int64  `json:"pollInterval,omitempty"`
}

func (t *task) wire() wireTask {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wireLocked()
}

// wireLocked is wire with t.mu held.
func (t *task) wireLocked() wireTask {
	return wireTask{
		TaskID:        t.id,
		Status:        t.status,
		StatusMessage: t.message,
		CreatedAt:     t.created.UTC().Format(isoMillis),
		LastUpdatedAt: t.updated.UTC().Format(isoMillis),
		TTL:           t.ttl.Milliseconds(),
		PollInterval:  t.store.opts.PollInterval.Milliseconds(),
	}
}

// changed sends a session's task notifications/tasks/status on the
// session's GET stream (2025-11-25 basic/utilities/tasks §Task Status
// Notification); t.mu is held, so the notifications go in the order of
// the changes. 2026-07-28 tasks have no session to send to.
func (t *task) changed() {
	if t.owner == nil {
		return
	}
	p, err := jsonrpc.Marshal(t.wireLocked())
	if err != nil {
		return
	}
	_ = t.owner.Send(jsonrpc.AppendNotification(nil, NotificationTasksStatus, p)) // never blocks; fails only once the session ended
}

// maybeSessionTask runs a tools/call of a 2025-11-25 session as a task
// when params.task asks for one (basic/utilities/tasks §Creating Tasks):
// the task is stored and the handler started before the CreateTaskResult
// is returned. It reports false for an ordinary call. Tool-level
// negotiation (§Tool-Level Negotiation): a task for a tool whose
// taskSupport is not "optional" or "required", or a plain call of a
// "required" one, gets -32601. Older sessions ignore params.task.
func (ts *taskStore) maybeSessionTask(c *Call, t *serverTool, p *CallToolParams, bind string) ([]byte, *jsonrpc.Error, bool) {
	st := c.Session
	if !AtLeast(st.ProtocolVersion, Version20251125) {
		return nil, nil, false
	}
	support := TaskSupportForbidden
	if ex := t.tool.Execution; ex != nil && ex.TaskSupport != "" {
		support = ex.TaskSupport
	}
	asked := declared(p.Task)
	switch {
	case !asked && support == TaskSupportRequired:
		return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, fmt.Sprintf("tool %q must be called as a task (params.task)", p.Name)), true
	case !asked:
		return nil, nil, false
	case support != TaskSupportOptional && support != TaskSupportRequired:
		return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, fmt.Sprintf("tool %q does not run as a task", p.Name)), true
	}
	var meta struct {
		TTL *float64 `json:"ttl"`
	}
	if p.Task[0] != '{' || jsonrpc.Unmarshal(p.Task, &meta) != nil {
		return nil, invalidParams("params.task must be an object"), true
	}
	// The requested ttl is honoured up to TaskOptions.TTL (§Task
	// Creation: the receiver may keep a task for less or more).
	ttl := ts.opts.TTL
	if meta.TTL != nil && *meta.TTL > 0 && *meta.TTL < float64(ttl.Milliseconds()) {
		ttl = time.Duration(*meta.TTL * float64(time.Millisecond))
	}
	now := time.Now()
	taskCtx, cancel := context.WithCancel(st.ctx) // ends with the session
	tk := &task{store: ts, id: ts.newTaskID(), created: now, updated: now, ttl: ttl, cancel: cancel,
		announced: make(chan struct{}), done: make(chan struct{}), owner: st, phase: phaseTask, status: TaskWorking}
	close(tk.announced)
	if !ts.add(tk) {
		cancel()
		return nil, internalError("too many tasks"), true
	}
	// No Out: the handler's notifications and requests go on the
	// session's GET stream, since the call is answered at once.
	tc := &Call{Session: st, Method: c.Method, ID: c.ID, Params: c.Params}
	req := &CallToolRequest{Params: p, Request: ts.s.newRequest(tc, p.Meta)}
	req.task = tk
	// Encoded first: the task is "working" when created (§Task Status).
	b, jerr := encode(struct {
		Task wireTask `json:"task"`
	}{tk.wire()})
	go func() { // owner: the task; exit: the handler returns (tasks/cancel, the TTL, the session's end or Server.Close cancel it)
		defer cancel()
		ts.run(taskCtx, req, t, tk, bind)
	}()
	return b, jerr, true
}

// askSession asks a session's client the task's input requests, one
// after the other on the session's GET stream, the task being
// input_required meanwhile (2025-11-25 basic/utilities/tasks §Input
// Required Status).
func (t *task) askSession(ctx context.Context, reqs InputRequests) (InputResponses, error) {
	t.mu.Lock()
	if t.terminal() {
		t.mu.Unlock()
		return nil, context.Canceled
	}
	t.status, t.updated = TaskInputRequired, time.Now()
	t.changed()
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.status == TaskInputRequired {
			t.status, t.updated = TaskWorking, time.Now()
			t.changed()
		}
		t.mu.Unlock()
	}()
	answers := make(InputResponses, len(reqs))
	for k, r := range reqs {
		var raw json.RawMessage
		if err := t.owner.call(ctx, sessionOutbound{t.owner}, t.store.s.clientTimeout(), r.Method, r.Params, &raw); err != nil {
			return nil, err
		}
		answers[k] = raw
	}
	return answers, nil
}

// taskResult answers tasks/result (2025-11-25 basic/utilities/tasks
// §Retrieving Task Results): it waits until the task is terminal, then
// answers what tools/call would have, with the related-task _meta: the
// CallToolResult, or the JSON-RPC error. A cancelled task gets an
// internal error; a task that expires meanwhile, invalid params.
func (s *Server) taskResult(c *Call) ([]byte, *jsonrpc.Error) {
	t, _, jerr := s.tasks.find(c)
	if jerr != nil {
		return s.orForward(c, jerr) // a session's task: never forwarded
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	expiry := time.NewTimer(time.Until(t.created.Add(t.ttl)))
	defer expiry.Stop()
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, ErrNoResponse
	case <-expiry.C:
		s.tasks.get(t.id) // drops it and cancels the handler
		return nil, invalidParams("unknown task (expired): " + t.id)
	}
	t.mu.Lock()
	status, result, terr := t.status, t.result, t.err
	t.mu.Unlock()
	switch status {
	case TaskCompleted:
		return withRelatedTask(result, t.id)
	case TaskFailed:
		return nil, terr
	}
	return nil, internalError("task " + t.id + " was cancelled")
}

// withRelatedTask adds _meta[MetaRelatedTask] to an encoded result.
func withRelatedTask(result []byte, id string) ([]byte, *jsonrpc.Error) {
	var m map[string]json.RawMessage
	if err := jsonrpc.Unmarshal(result, &m); err != nil {
		return nil, jsonrpc.AsError(err)
	}
	var meta map[string]json.RawMessage
	if raw := m["_meta"]; len(raw) > 0 {
		_ = jsonrpc.Unmarshal(raw, &meta)
	}
	if meta == nil {
		meta = make(map[string]json.RawMessage, 1)
	}
	rel, _ := jsonrpc.Marshal(map[string]string{"taskId": id})
	meta[MetaRelatedTask] = rel
	m["_meta"], _ = jsonrpc.Marshal(meta)
	return encode(m)
}

// listTasks answers tasks/list (2025-11-25 basic/utilities/tasks
// §Listing Tasks): a page of the session's live tasks, oldest first, with
// the cursors of the other lists (pagination.go; 2025-11-25
// server/utilities/pagination): a page holds ServerOptions.PageSize
// tasks, nextCursor is absent on the last page, and a cursor that does
// not decode or is another list's is -32602. The key of a task is its
// creation time and then its ID, so tasks created or ended between two
// pages make the client neither skip nor repeat a task that stays.
// tasks/list exists only at 2025-11-25: the 2026-07-28 tasks extension
// has none.
func (s *Server) listTasks(c *Call) ([]byte, *jsonrpc.Error) {
	at, jerr := listCursor(listTasks, c.Params)
	if jerr != nil {
		return nil, jerr
	}
	ts := s.tasks
	now := time.Now()
	var mine []*task
	ts.mu.Lock()
	for id, t := range ts.tasks {
		if t.expired(now) {
			t.cancel()
			delete(ts.tasks, id)
			continue
		}
		if t.owner == c.Session {
			mine = append(mine, t)
		}
	}
	ts.mu.Unlock()
	mine, next := page(s, listTasks, mine, (*task).listKey, at)
	res := struct {
		Tasks      []wireTask `json:"tasks"`
		NextCursor string     `json:"nextCursor,omitempty"`
	}{Tasks: make([]wireTask, 0, len(mine)), NextCursor: next}
	for _, t := range mine {
		res.Tasks = append(res.Tasks, t.wire())
	}
	return encode(res)
}

// listKey is t's position in tasks/list: its creation time (Unix
// nanoseconds, zero-padded so that the strings sort as the times do),
// then its ID.
func (t *task) listKey() string {
	return fmt.Sprintf("%020d\x00%s", t.created.UnixNano(), t.id)
}

// cancelSessionTask answers a session's tasks/cancel (2025-11-25
// basic/utilities/tasks §Cancelling Tasks): the cancelled Task, or
// invalid params when it had already ended.
func (ts *taskStore) cancelSessionTask(t *task) ([]byte, *jsonrpc.Error) {
	if !t.cancelNow() {
		return nil, invalidParams("cannot cancel task " + t.id + ": it is already " + t.wire().Status)
	}
	return encode(t.wire())
}
