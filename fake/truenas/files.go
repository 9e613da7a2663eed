package truenas

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// This file is the fake's file transfer, apps/file_app.py of the real
// middleware: POST /_upload and GET /_download/<job>, core.download and
// core.job_download_logs, and the job methods that consume or produce
// files (config.save, config.upload, filesystem.get, filesystem.put and
// the middleware's own test.test_* pipe methods).

// File transfer limits and deadlines of the real middleware.
const (
	// MaxUploadedFiles is how many file parts one /_upload takes
	// (MAX_UPLOADED_FILES).
	MaxUploadedFiles = 5
	// DownloadStartDeadline is how long an unbuffered download job waits
	// for its GET before the middleware closes its pipes.
	DownloadStartDeadline = 60 * time.Second
	// BufferedDownloadKeep is how long a buffered download stays.
	BufferedDownloadKeep = 3600 * time.Second
	// DownloadTokenTTL is the life of the token core.download issues.
	DownloadTokenTTL = 300 * time.Second
	// MaxConfigUpload is config.upload's size limit (10 MiB).
	MaxConfigUpload = 10485760
	// transferChunk is how much /_download moves per write (the real
	// do_copy reads 1 MiB at a time).
	transferChunk = 1 << 20
)

// FaultSlowTransfer slows the fake's file endpoints: while armed (see
// sim.Faults.Inject), every chunk /_upload feeds to a job or /_download
// sends waits SlowTransferDelay of fake time, as a slow disk or a slow
// peer would.
const FaultSlowTransfer = "truenas.slow-transfer"

// SlowTransferDelay is the fake time FaultSlowTransfer adds per chunk.
const SlowTransferDelay = time.Second

// Files serves the middleware's file endpoints and keeps the fake's small
// filesystem and configuration database. Build it with NewFiles on a
// Backend; package fake mounts it next to the websocket backend.
type Files struct {
	b   *Backend
	env *sim.Env

	mu        sync.Mutex
	downloads map[int]*download // jobs waiting for their GET (FileApplication.jobs)
	outputs   map[int]outPipe   // output pipe of each download job
	inputs    map[int]*inputSet // input pipes of each upload job
	changed   chan struct{}     // closed and replaced when outputs or inputs change
	awaiting  map[int]*JobRun   // running jobs blocked in jobPipes until attach
	fs        map[string]*fsFile
	config    []byte
	uploads   int // config.upload calls that succeeded
	reboots   int
	closed    bool
	quit      chan struct{}
	done      chan struct{} // closed when Close has finished
	wg        sync.WaitGroup

	// Where file contents and buffered downloads live: spoolMemory bytes
	// each in memory (sim.DefaultSpoolMemory when 0), the rest in
	// temporary files in spoolDir (os.TempDir() when empty).
	spoolMemory int64
	spoolDir    string
}

type download struct {
	job      *Job
	pipe     outPipe
	timer    *sim.Timer
	buffered bool
}

// NewFiles adds the file methods to b (core.download,
// core.job_download_logs, config.save, config.upload, filesystem.get,
// filesystem.put, test.test_input_pipe, test.test_input_pipes,
// test.test_download_pipe, test.test_download_slow_pipe) and returns the
// HTTP side, to be mounted with Register.
func NewFiles(b *Backend) *Files {
	f := &Files{
		b: b, env: b.Env(),
		downloads: map[int]*download{}, outputs: map[int]outPipe{}, inputs: map[int]*inputSet{},
		awaiting: map[int]*JobRun{},
		changed:  make(chan struct{}), fs: map[string]*fsFile{}, quit: make(chan struct{}), done: make(chan struct{}),
		config: DefaultConfigDatabase(),
	}
	f.registerMethods()
	// The backend closing closes the file side too, so no temporary file
	// outlives the fake.
	context.AfterFunc(b.ctx, f.Close)
	return f
}

// Register mounts /_upload and /_download. Like the real router they take
// any HTTP method and any path below them.
func (f *Files) Register(mux *http.ServeMux) {
	mux.HandleFunc("/_upload", f.serveUpload)
	mux.HandleFunc("/_upload/", f.serveUpload)
	mux.HandleFunc("/_download", f.serveDownload)
	mux.HandleFunc("/_download/", f.serveDownload)
}

// Close closes every pipe, so no job stays blocked on a transfer, and
// removes the fake filesystem's files and the buffered downloads with
// their temporary files. The Backend closing closes its Files too; a
// Close while another is under way waits for it.
func (f *Files) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.done // a Close under way (the Backend's) finishes first
		return
	}
	f.closed = true
	defer close(f.done)
	close(f.quit)
	var timers []*sim.Timer
	for id, d := range f.downloads {
		timers = append(timers, d.timer)
		delete(f.downloads, id)
		d.pipe.closeRead(errBrokenPipe)
	}
	for _, p := range f.outputs {
		p.closeRead(errBrokenPipe)
	}
	for _, s := range f.inputs {
		s.close(errJobEnded)
	}
	f.closeFilesLocked()
	f.mu.Unlock()
	for _, t := range timers {
		t.Stop()
	}
	f.wg.Wait()
}

// SetSpool sets where file contents and buffered downloads live from now
// on: up to memory bytes each in memory (sim.DefaultSpoolMemory when
// memory <= 0), the rest in temporary files in dir (os.TempDir() when
// empty). Files already stored stay where they are.
func (f *Files) SetSpool(memory int64, dir string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spoolMemory, f.spoolDir = memory, dir
}

// PendingDownloads is how many download jobs wait for their GET.
func (f *Files) PendingDownloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.downloads)
}

func (f *Files) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// attach wires a job to its pipes once StartJob has returned its id, and
// closes them when the job ends, as the real job does in __close_pipes.
//
// A running job waits in jobPipes for its pipes; attach wakes it and, like
// a clock wake-up, returns only once the job has blocked again (or ended).
// So when core.download answers, the job's first Sleep is already on the
// clock, and a following Advance fires it.
func (f *Files) attach(job *Job, out outPipe, in *inputSet) {
	f.mu.Lock()
	if out != nil {
		f.outputs[job.ID()] = out
	}
	if in != nil {
		f.inputs[job.ID()] = in
	}
	// Only a job that waits in jobPipes is woken here; a job StartJob
	// handed back from a lock queue may be blocked on anything else.
	var parked, ended <-chan struct{}
	if r := f.awaiting[job.ID()]; r != nil {
		parked, ended = r.expectPark(), r.ctx.Done()
	}
	f.signalLocked()
	f.mu.Unlock()
	if parked != nil {
		select {
		case <-parked:
		case <-job.Done():
		case <-ended:
		}
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		select {
		case <-job.Done():
		case <-f.quit:
		}
		if out != nil {
			out.closeWrite()
		}
		if in != nil {
			in.close(errJobEnded)
		}
		f.mu.Lock()
		delete(f.outputs, job.ID())
		delete(f.inputs, job.ID())
		f.mu.Unlock()
	}()
}

// piped wraps a job method's Run: it waits (as a blocked job) until the
// endpoint that started the job has attached its pipes, and while Run
// works it makes an abort (or the backend closing) close them, so that a
// read or write blocked on a pipe returns.
func (f *Files) piped(run func(j *JobRun, in *inputSet) (any, error)) func(*JobRun) (any, error) {
	return func(j *JobRun) (any, error) {
		out, in, err := f.jobPipes(j)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(j.Context(), func() {
			if out != nil {
				out.closeRead(errBrokenPipe)
			}
			if in != nil {
				in.close(context.Canceled)
			}
		})
		defer stop()
		return run(j, in)
	}
}

func (f *Files) jobPipes(j *JobRun) (outPipe, *inputSet, error) {
	defer func() {
		f.mu.Lock()
		delete(f.awaiting, j.ID())
		f.mu.Unlock()
	}()
	for {
		f.mu.Lock()
		out, in := f.outputs[j.ID()], f.inputs[j.ID()]
		ch := f.changed
		if out == nil && in == nil {
			f.awaiting[j.ID()] = j
		}
		f.mu.Unlock()
		if out != nil || in != nil {
			return out, in, nil
		}
		if err := j.WaitFor(ch); err != nil {
			return nil, nil, err
		}
	}
}

// slow applies FaultSlowTransfer to one chunk.
func (f *Files) slow(ctx context.Context) error {
	if f.env.Faults.Take(FaultSlowTransfer) {
		return f.env.Clock.Sleep(ctx, SlowTransferDelay)
	}
	return nil
}

// ---- core.download ----------------------------------------------------

// startDownload is core.download's _download: start method with an output
// pipe, issue a single-use token bound to the job and the file name, and
// give the job DownloadStartDeadline (buffered: BufferedDownloadKeep) to
// be fetched.
func (f *Files) startDownload(cred *Credentials, method string, args []json.RawMessage, filename string, buffered bool) (int, string, error) {
	var pipe outPipe
	if buffered {
		pipe = newFilePipe(f.newSpool())
	} else {
		pipe = newSyncPipe()
	}
	job, err := f.b.StartJobAs(cred, method, args, Pipes{Output: pipe})
	if err != nil {
		return 0, "", err
	}
	f.attach(job, pipe, nil)
	id := job.ID()
	token := f.b.IssueToken(cred.User, DownloadTokenTTL, map[string]any{"filename": filename, "job": id}, true)
	keep := DownloadStartDeadline
	if buffered {
		keep = BufferedDownloadKeep
	}
	d := &download{job: job, pipe: pipe, buffered: buffered}
	f.mu.Lock()
	if f.closed {
		// The fake is closing: nothing will fetch it, nothing may stay.
		f.mu.Unlock()
		pipe.closeRead(errBrokenPipe)
		return 0, "", errJobEnded
	}
	f.downloads[id] = d
	f.mu.Unlock()
	d.timer = f.env.Clock.AfterFunc(keep, func() { f.expire(id) })
	return id, "/_download/" + strconv.Itoa(id) + "?auth_token=" + token, nil
}

// expire is _cleanup_job: the download did not start in time, so the
// job's pipes are closed and its next write fails with BrokenPipeError.
func (f *Files) expire(id int) {
	f.mu.Lock()
	d, ok := f.downloads[id]
	if ok {
		delete(f.downloads, id)
	}
	f.mu.Unlock()
	if ok {
		f.env.Logger.Debug("truenas fake: download start deadline passed", "job", id)
		d.pipe.closeRead(errBrokenPipe)
	}
}

// ---- GET /_download ---------------------------------------------------

func (f *Files) serveDownload(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "" || path[len(path)-1] < '0' || path[len(path)-1] > '9' {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	id, err := strconv.Atoi(path[strings.LastIndexByte(path, '/')+1:])
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	// auth.get_token: a single-use token is used up by this lookup, even
	// when it turns out to be for another job.
	tok := r.URL.Query().Get("auth_token")
	filename := ""
	denied := tok == ""
	if !denied {
		t, ok := f.b.LookupToken(tok, true)
		if !ok || !sameJobID(t.Attrs["job"], id) {
			denied = true
		} else {
			filename, _ = t.Attrs["filename"].(string)
		}
	}
	if denied {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if _, ok := f.b.JobByID(id); !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.mu.Lock()
	d, ok := f.downloads[id]
	if ok {
		delete(f.downloads, id) // _cleanup_cancel: the download has started
	}
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusGone)
		return
	}
	d.timer.Stop()
	// Whatever happens to the response (a cut connection panics out of
	// Write), the job's pipes are closed at the end, as in the real
	// handler's finally clause.
	defer d.pipe.closeRead(errBrokenPipe)
	// A client that goes away while the job has nothing to send yet must
	// not leave this handler blocked on the pipe (the real do_copy would
	// fail on its next write; the fake must also let its server close).
	stop := context.AfterFunc(r.Context(), func() { d.pipe.closeRead(errBrokenPipe) })
	defer stop()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, transferChunk)
	for {
		n, rerr := d.pipe.Read(buf)
		if n > 0 {
			if err := f.slow(r.Context()); err != nil {
				return
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr != nil {
			return
		}
	}
}

// sameJobID compares a token's "job" attribute (an int from core.download,
// a float64 from a decoded auth.generate_token call) with a job id.
func sameJobID(v any, id int) bool {
	switch n := v.(type) {
	case int:
		return n == id
	case int64:
		return n == int64(id)
	case float64:
		return n == float64(id)
	case json.Number:
		return n.String() == strconv.Itoa(id)
	}
	return false
}

// ---- POST /_upload ----------------------------------------------------

// uploadStatus is an HTTP refusal of /_upload, with the real text.
type uploadStatus struct {
	code int
	body string
}

func (f *Files) serveUpload(w http.ResponseWriter, r *http.Request) {
	job, st := f.upload(r)
	if st != nil {
		// Whatever the client still sends is not read: answer and close.
		w.Header().Set("Connection", "close")
		if st.body != "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(st.code)
		_, _ = io.WriteString(w, st.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"job_id": %d}`, job)
}

// upload follows FileApplication.upload step by step; the order of the
// checks decides which refusal a bad request gets.
func (f *Files) upload(r *http.Request) (int, *uploadStatus) {
	mr, err := multipartReader(r)
	if err != nil {
		return 0, &uploadStatus{500, err.Error()}
	}
	part, err := mr.NextPart()
	if err != nil {
		return 0, &uploadStatus{405, "No part found on payload"}
	}
	if part.FormName() != "data" {
		return 0, &uploadStatus{405, `"data" part must be the first on payload`}
	}
	raw, err := io.ReadAll(io.LimitReader(part, 1<<20))
	if err != nil {
		return 0, &uploadStatus{400, err.Error()}
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(raw, &data); err != nil {
		var any_ any
		if json.Unmarshal(raw, &any_) == nil {
			// Valid JSON that is not an object: "method" in data is false.
			return 0, &uploadStatus{422, ""}
		}
		return 0, &uploadStatus{400, pythonJSONError(raw, err)}
	}
	rawMethod, ok := data["method"]
	if !ok {
		return 0, &uploadStatus{422, ""}
	}
	cred, st := f.authenticate(r)
	if st != nil {
		return 0, st
	}
	filePart, err := mr.NextPart()
	if err != nil || filePart.FormName() != "file" {
		return 0, &uploadStatus{405, `"file" not found as second part on payload`}
	}
	var method string
	if err := json.Unmarshal(rawMethod, &method); err != nil {
		return 0, &uploadStatus{500, "method must be a string"}
	}
	var params []json.RawMessage
	if p, ok := data["params"]; ok && string(p) != "null" {
		if err := json.Unmarshal(p, &params); err != nil {
			return 0, &uploadStatus{500, "params must be a list"}
		}
	}
	if !strings.Contains(method, ".") {
		return 0, &uploadStatus{412, "[EBADMSG] Invalid method name"}
	}
	if !authorized(cred, method) {
		return 0, &uploadStatus{403, "403: Forbidden"}
	}
	set := newInputSet()
	job, err := f.b.StartJobAs(cred, method, params, Pipes{Input: set})
	if err != nil {
		var ce *CallError
		if errors.As(err, &ce) {
			if ce.Errno == ErrnoMethodNotFound {
				return 0, &uploadStatus{422, err.Error()}
			}
			return 0, &uploadStatus{412, err.Error()}
		}
		return 0, &uploadStatus{500, err.Error()}
	}
	f.attach(job, nil, set)
	defer set.finish()
	if st := f.feed(r.Context(), filePart, set.last()); st != nil {
		return 0, st
	}
	for i := 1; i < MaxUploadedFiles; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return job.ID(), nil
		}
		if err != nil {
			return 0, &uploadStatus{500, err.Error()}
		}
		if p.FormName() != "file" {
			return 0, &uploadStatus{405, fmt.Sprintf("Unknown payload part %s", pyStrRepr(p.FormName()))}
		}
		if st := f.feed(r.Context(), p, set.add()); st != nil {
			return 0, st
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		return 0, &uploadStatus{405, "Too many uploaded files"}
	}
	return job.ID(), nil
}

// feed is copy_multipart_to_pipe: copy one file part into the job's pipe,
// then close the pipe. A job that stops reading (it ended, it was aborted)
// makes the rest of the part be skipped, like the real BrokenPipeError. A
// body that breaks off mid-part closes the pipe normally, so the job sees
// an ordinary end of file, as in the real middleware: it is the client's
// business to abort the job first.
func (f *Files) feed(ctx context.Context, part *multipart.Part, w *io.PipeWriter) *uploadStatus {
	defer w.Close()
	buf := make([]byte, 256<<10)
	for {
		n, rerr := part.Read(buf)
		if n > 0 {
			if err := f.slow(ctx); err != nil {
				return &uploadStatus{500, err.Error()}
			}
			if _, err := w.Write(buf[:n]); err != nil {
				_, _ = io.Copy(io.Discard, part)
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return &uploadStatus{500, rerr.Error()}
		}
	}
}

func multipartReader(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		// aiohttp's request.multipart() raises on anything else; the
		// handler does not catch it.
		return nil, errors.New("500 Internal Server Error\n\nServer got itself in trouble")
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// authenticate is parse_credentials plus authenticate of file_app.py,
// with the statuses the real endpoint answers.
func (f *Files) authenticate(r *http.Request) (*Credentials, *uploadStatus) {
	h := r.Header.Get("Authorization")
	switch {
	case h == "":
		tok := r.URL.Query().Get("auth_token")
		if tok == "" {
			return nil, &uploadStatus{401, "401: Unauthorized"}
		}
		return f.tokenForAction(tok)
	case strings.HasPrefix(h, "Token "):
		return f.tokenForAction(h[len("Token "):])
	case strings.HasPrefix(h, "Basic "):
		dec, err := base64.StdEncoding.DecodeString(h[len("Basic "):])
		if err != nil {
			return nil, &uploadStatus{400, "400: Bad Request"}
		}
		name, pw, ok := strings.Cut(string(dec), ":")
		if !ok {
			return nil, &uploadStatus{500, "not enough values to unpack (expected 2, got 1)"}
		}
		u, ok := f.b.checkPassword(name, pw)
		if !ok {
			return nil, &uploadStatus{401, "Bad username or password"}
		}
		return &Credentials{User: u, Type: CredLoginPassword, LoginAt: f.env.Clock.Now()}, nil
	case strings.HasPrefix(h, "Bearer "):
		u, ok := f.b.checkAPIKey("", h[len("Bearer "):])
		if !ok {
			return nil, &uploadStatus{401, "Invalid API key"}
		}
		c := apiKeyCred(u)
		c.LoginAt = f.env.Clock.Now()
		return c, nil
	}
	return nil, &uploadStatus{401, "401: Unauthorized"}
}

// tokenForAction is auth.get_token_for_action: an unknown or expired
// token, or one issued with attributes (a download token), is refused
// with 403 "Invalid token" and not used up; a good single-use token is.
func (f *Files) tokenForAction(tok string) (*Credentials, *uploadStatus) {
	t, ok := f.b.LookupToken(tok, false)
	if !ok || len(t.Attrs) > 0 {
		return nil, &uploadStatus{403, "Invalid token"}
	}
	if _, ok := f.b.LookupToken(tok, true); !ok {
		return nil, &uploadStatus{403, "Invalid token"}
	}
	return &Credentials{User: t.User, Type: CredToken, LoginAt: f.env.Clock.Now()}, nil
}

// authorized applies the methods' roles: config and filesystem methods
// need FULL_ADMIN; the test.* methods need no authorization.
func authorized(cred *Credentials, method string) bool {
	if strings.HasPrefix(method, "test.") {
		return true
	}
	return cred.FullAdmin()
}

// pythonJSONError renders a JSON syntax error like Python's json module.
func pythonJSONError(raw []byte, err error) string {
	var se *json.SyntaxError
	off := int64(0)
	if errors.As(err, &se) {
		off = max(se.Offset-1, 0)
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return "Expecting value: line 1 column 1 (char 0)"
	}
	return fmt.Sprintf("Expecting value: line %d column %d (char %d)", line, col, off)
}

// pyStrRepr quotes s the way Python's repr quotes a str.
func pyStrRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
