package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
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
// "required" tools; 2025 sessions always get synchronous calls (and no
// tasks/* methods).
type TaskOptions struct {
	// TTL is how long a task stays readable with tasks/get after it was
	// created (ttlMs); a task still running then is cancelled. Default:
	// 1h.
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
	cancel    context.CancelFunc
	announced chan struct{} // closed when the call becomes a task

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

func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
}

// ask parks the task on input requests until the client answers each
// with tasks/update, and returns the answers by key.
func (t *task) ask(ctx context.Context, reqs InputRequests) (InputResponses, error) {
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
		if now.Sub(o.created) > ts.opts.TTL {
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
	if t != nil && time.Since(t.created) > ts.opts.TTL {
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
	ex := t.tool.Execution
	if !st.stateless || ex == nil || (ex.TaskSupport != TaskSupportOptional && ex.TaskSupport != TaskSupportRequired) {
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
	tk := &task{store: ts, id: newTaskID(), created: now, updated: now, cancel: cancel,
		announced: make(chan struct{}), status: TaskWorking}
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
		TTLMs:          ts.opts.TTL.Milliseconds(),
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
		return nil, jerr
	}
	return encode(s.tasks.envelope(t, ResultTypeComplete, true))
}

func (s *Server) updateTask(c *Call) ([]byte, *jsonrpc.Error) {
	t, answers, jerr := s.tasks.find(c)
	if jerr != nil {
		return nil, jerr
	}
	t.answer(answers)
	return s.tasks.ack()
}

func (s *Server) cancelTask(c *Call) ([]byte, *jsonrpc.Error) {
	t, _, jerr := s.tasks.find(c)
	if jerr != nil {
		return nil, jerr
	}
	t.mu.Lock()
	if !t.terminal() {
		t.status, t.updated, t.inputs = TaskCancelled, time.Now(), nil
	}
	t.mu.Unlock()
	t.cancel()
	return s.tasks.ack()
}

// find returns the task a tasks/* request names, and the request's
// inputResponses.
func (ts *taskStore) find(c *Call) (*task, InputResponses, *jsonrpc.Error) {
	if !c.Session.ClientCapabilities.HasExtension(TasksExtension) {
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
	if t == nil {
		return nil, nil, invalidParams("unknown task: " + p.TaskID)
	}
	return t, p.InputResponses, nil
}

// ack is the result of tasks/update and tasks/cancel.
func (ts *taskStore) ack() ([]byte, *jsonrpc.Error) {
	return encode(map[string]any{"resultType": ResultTypeComplete, "_meta": Meta{MetaServerInfo: ts.s.impl}})
}
