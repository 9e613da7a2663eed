package truenas

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/longrun/longrun/fake/internal/pyjson"
	"github.com/longrun/longrun/fake/sim"
)

// PwencSecretPath is the file filesystem.put refuses to write.
const PwencSecretPath = "/data/pwenc_secret"

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// DefaultConfigDatabase is the fake's seeded configuration database: a
// small file that starts like a SQLite database, with deterministic
// content.
func DefaultConfigDatabase() []byte {
	var b bytes.Buffer
	b.WriteString(sqliteMagic)
	for i := 0; b.Len() < 96<<10; i++ {
		fmt.Fprintf(&b, "INSERT INTO system_settings VALUES (%d, 'longrun-fake', %d);\n", i, i*7%1000)
	}
	return b.Bytes()
}

// fsFile is one file of the fake filesystem: content in a spool (in
// memory while small, in a temporary file beyond), a generated pattern of
// a given size (no storage), or a sink that keeps only its size.
type fsFile struct {
	content   *fsContent // nil for generated files and sinks
	generated int64      // >= 0: size of a generated file
	sink      bool
	size      int64
}

// fsContent is the bytes of one file, shared by its filesystem entry and
// the jobs streaming it (filesystem.get). Like an unlinked file still open
// on Linux, content whose entry was replaced or removed stays readable
// until its last reader is done; then its spool is closed and its
// temporary file removed. refs is guarded by Files.mu; the entry counts
// as one reference.
type fsContent struct {
	spool *sim.Spool
	refs  int
}

// newSpool is an empty spool for a file or a buffered download.
func (f *Files) newSpool() *sim.Spool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sim.NewSpool(f.spoolMemory, f.spoolDir)
}

// setFileLocked installs e at path, releasing the entry it replaces. After
// Close, e's content is released at once: a closed fake keeps no file.
func (f *Files) setFileLocked(path string, e *fsFile) {
	if f.closed {
		f.releaseLocked(e.content)
		return
	}
	old := f.fs[path]
	f.fs[path] = e
	if old != nil {
		f.releaseLocked(old.content)
	}
}

// acquireLocked takes a reference to path's content for a reader; nil
// for a missing file, a generated file or a sink.
func (f *Files) acquireLocked(path string) *fsContent {
	e := f.fs[path]
	if e == nil || e.content == nil {
		return nil
	}
	e.content.refs++
	return e.content
}

// releaseLocked drops a reference to c, closing its spool with the last.
func (f *Files) releaseLocked(c *fsContent) {
	if c == nil {
		return
	}
	c.refs--
	if c.refs <= 0 {
		_ = c.spool.Close()
	}
}

func (f *Files) release(c *fsContent) {
	f.mu.Lock()
	f.releaseLocked(c)
	f.mu.Unlock()
}

// closeFilesLocked empties the filesystem and removes every file's
// storage, readers or not (their next read fails).
func (f *Files) closeFilesLocked() {
	for path, e := range f.fs {
		if e.content != nil {
			_ = e.content.spool.Close()
		}
		delete(f.fs, path)
	}
}

// WriteFile stores a file in the fake filesystem (filesystem.get serves
// it), replacing (and removing) the file at path. Past a small size the
// content lives in a temporary file, removed when the file is replaced or
// removed or the fake closes.
func (f *Files) WriteFile(path string, data []byte) error {
	sp := f.newSpool()
	if _, err := sp.Write(data); err != nil {
		_ = sp.Close()
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setFileLocked(path, &fsFile{content: &fsContent{spool: sp, refs: 1}, generated: -1, size: int64(len(data))})
	return nil
}

// ReadFile returns a file of the fake filesystem (what filesystem.put
// wrote). A generated file or a sink has no content to return.
func (f *Files) ReadFile(path string) ([]byte, bool) {
	f.mu.Lock()
	c := f.acquireLocked(path)
	f.mu.Unlock()
	if c == nil {
		return nil, false
	}
	defer f.release(c)
	data, err := c.spool.Bytes()
	if err != nil {
		return nil, false
	}
	return data, true
}

// RemoveFile removes a file of the fake filesystem and its storage (a
// filesystem.get still sending it finishes first). It reports whether
// there was a file.
func (f *Files) RemoveFile(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.fs[path]
	if !ok {
		return false
	}
	delete(f.fs, path)
	f.releaseLocked(e.content)
	return true
}

// FileSize returns the size of a file of the fake filesystem.
func (f *Files) FileSize(path string) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.fs[path]
	if !ok {
		return 0, false
	}
	return e.size, true
}

// AddGeneratedFile adds a file of size bytes whose content is
// GeneratedByte(i) at offset i, produced on the fly: large downloads cost
// the fake no memory.
func (f *Files) AddGeneratedFile(path string, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setFileLocked(path, &fsFile{generated: size, size: size})
}

// GeneratedByte is the content of a generated file at offset i.
func GeneratedByte(i int64) byte { return byte(i % 251) }

// AddSink makes path a file that counts what filesystem.put writes to it
// and keeps none of it, like /dev/null: large uploads cost the fake no
// memory. FileSize reports the count.
func (f *Files) AddSink(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setFileLocked(path, &fsFile{sink: true, generated: -1})
}

// Config is the current configuration database (what config.save sends).
func (f *Files) Config() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.config...)
}

// SetConfig replaces the configuration database.
func (f *Files) SetConfig(db []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.config = append([]byte(nil), db...)
}

// ConfigUploads is how many config.upload jobs succeeded (each schedules
// a reboot on the real middleware).
func (f *Files) ConfigUploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads
}

func (f *Files) registerMethods() {
	b := f.b
	b.RegisterMethod("core.download", f.coreDownload)
	b.RegisterMethod("core.job_download_logs", f.jobDownloadLogs)
	b.RegisterJobMethod("config.save", JobMethod{Output: true, Run: f.piped(f.configSave)})
	b.RegisterJobMethod("config.upload", JobMethod{Input: true, Run: f.piped(f.configUpload)})
	b.RegisterJobMethod("filesystem.get", JobMethod{Output: true, Run: f.piped(f.filesystemGet)})
	b.RegisterJobMethod("filesystem.put", JobMethod{Input: true, Run: f.piped(f.filesystemPut)})
	b.RegisterJobMethod("test.test_input_pipe", JobMethod{Input: true, Run: f.piped(f.testInputPipe)})
	b.RegisterJobMethod("test.test_input_pipes", JobMethod{Input: true, Run: f.piped(f.testInputPipes)})
	b.RegisterJobMethod("test.test_download_pipe", JobMethod{Output: true, Run: f.piped(f.testDownloadPipe(0))})
	b.RegisterJobMethod("test.test_download_slow_pipe", JobMethod{Output: true, Run: f.piped(f.testDownloadPipe(2 * time.Second))})
}

// coreDownload is core.download(method, args, filename, buffered=false)
// -> [job_id, "/_download/<job_id>?auth_token=<token>"].
func (f *Files) coreDownload(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
	method, err := decodeParam(params, 0, "method", "")
	if err != nil {
		return nil, err
	}
	args, err := decodeParam(params, 1, "args", []json.RawMessage{})
	if err != nil {
		return nil, err
	}
	filename, err := decodeParam(params, 2, "filename", "")
	if err != nil {
		return nil, err
	}
	buffered, err := decodeParam(params, 3, "buffered", false)
	if err != nil {
		return nil, err
	}
	if len(params) < 3 {
		return nil, ValidationErrors{{Attribute: "core.download.filename", Message: "Field required"}}
	}
	cred := s.Credentials()
	if !authorized(cred, method) {
		return nil, &CallError{Message: "Not authorized", Errno: int(syscall.EACCES)}
	}
	id, path, err := f.startDownload(cred, method, args, filename, buffered)
	if err != nil {
		return nil, err
	}
	return []any{id, path}, nil
}

// jobDownloadLogs is core.job_download_logs(id, filename, buffered=false)
// -> "/_download/<job>?auth_token=<token>" for a filesystem.get job that
// sends the log file of job id.
func (f *Files) jobDownloadLogs(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
	id, err := decodeParam(params, 0, "id", 0)
	if err != nil {
		return nil, err
	}
	filename, err := decodeParam(params, 1, "filename", "")
	if err != nil {
		return nil, err
	}
	buffered, err := decodeParam(params, 2, "buffered", false)
	if err != nil {
		return nil, err
	}
	cred := s.Credentials()
	job, err := f.b.visibleJob(cred, id)
	if err != nil {
		return nil, err
	}
	f.b.mu.Lock()
	logs := append([]string(nil), job.logs...)
	f.b.mu.Unlock()
	if len(logs) == 0 {
		return nil, &CallError{Message: "This job has no logs"}
	}
	path := fmt.Sprintf("/var/log/jobs/%d.log", id)
	if err := f.WriteFile(path, []byte(strings.Join(logs, "\n")+"\n")); err != nil {
		return nil, &Exception{Type: "OSError", Message: err.Error()}
	}
	arg, _ := json.Marshal(path)
	_, url, err := f.startDownload(cred, "filesystem.get", []json.RawMessage{arg}, filename, buffered)
	if err != nil {
		return nil, err
	}
	return url, nil
}

// jobErr turns a pipe error of an aborted job into the abort itself, so
// the job ends ABORTED rather than FAILED.
func jobErr(j *JobRun, err error) error {
	if err != nil && j.Context().Err() != nil {
		return j.Context().Err()
	}
	return err
}

// write sends p to the job's output, failing the job with the pipe's
// error when the download side is gone.
func write(j *JobRun, p []byte) error {
	_, err := j.Output().Write(p)
	return jobErr(j, err)
}

// configSave is config.save(options): the database alone, or a tar of the
// database and the secrets the options ask for.
func (f *Files) configSave(j *JobRun, _ *inputSet) (any, error) {
	var opts struct {
		SecretSeed         bool `json:"secretseed"`
		PoolKeys           bool `json:"pool_keys"`
		RootAuthorizedKeys bool `json:"root_authorized_keys"`
	}
	if _, err := j.Param(0, &opts); err != nil {
		return nil, &ValidationError{Attribute: "config.save.options", Message: "Input should be a valid dictionary"}
	}
	db := f.Config()
	if !opts.SecretSeed && !opts.RootAuthorizedKeys {
		return nil, copyOut(j, bytes.NewReader(db))
	}
	tw := tar.NewWriter(j.Output())
	files := []struct {
		name string
		data []byte
	}{{"freenas-v1.db", db}}
	if opts.SecretSeed {
		files = append(files, struct {
			name string
			data []byte
		}{"pwenc_secret", []byte("longrun-fake-pwenc-secret-0123456789abcdef")})
	}
	if opts.RootAuthorizedKeys {
		files = append(files, struct {
			name string
			data []byte
		}{"root_authorized_keys", []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFake longrun@fake\n")})
	}
	for _, fl := range files {
		hdr := &tar.Header{Name: fl.name, Mode: 0o600, Size: int64(len(fl.data)), ModTime: j.Clock().Now()}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(fl.data); err != nil {
			return nil, err
		}
	}
	return nil, tw.Close()
}

// copyOut copies r to the job's output in 1 MiB writes.
func copyOut(j *JobRun, r io.Reader) error {
	buf := make([]byte, transferChunk)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if err := write(j, buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return jobErr(j, rerr)
		}
	}
}

// configUpload is config.upload(): read the database (or a tar holding
// it) from the input pipe, at most 10 MiB, check it and install it.
func (f *Files) configUpload(j *JobRun, _ *inputSet) (any, error) {
	j.SetProgress(0, "Reading database file", nil)
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := j.Input().Read(chunk)
		buf.Write(chunk[:n])
		if buf.Len() > MaxConfigUpload {
			return nil, &CallError{Message: fmt.Sprintf("Uploaded config is greater than maximum allowed size (%d Bytes)", MaxConfigUpload)}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, jobErr(j, err)
		}
	}
	if err := j.Context().Err(); err != nil {
		return nil, err
	}
	j.SetProgress(15, "Replacing database file", nil)
	db := buf.Bytes()
	if isTar(db) {
		found := false
		tr := tar.NewReader(bytes.NewReader(db))
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			if hdr.Name == "freenas-v1.db" || strings.HasSuffix(hdr.Name, ".db") {
				data, err := io.ReadAll(tr)
				if err != nil {
					return nil, &CallError{Message: "Neither a valid tar or TrueNAS database file was provided."}
				}
				db, found = data, true
				break
			}
		}
		if !found {
			return nil, &CallError{Message: "Neither a valid tar or TrueNAS database file was provided."}
		}
	}
	if !bytes.HasPrefix(db, []byte(sqliteMagic)) {
		return nil, &CallError{Message: "Uploaded TrueNAS database file is not valid:\nError: file is not a database"}
	}
	j.SetProgress(100, "Rebooting", nil)
	f.mu.Lock()
	f.config = append([]byte(nil), db...)
	f.uploads++
	f.reboots++
	f.mu.Unlock()
	return nil, nil
}

// isTar reports whether b holds a tar archive (ustar magic at 257).
func isTar(b []byte) bool {
	return len(b) >= 262 && (string(b[257:262]) == "ustar")
}

// filesystemGet is filesystem.get(path): send the file's content.
func (f *Files) filesystemGet(j *JobRun, _ *inputSet) (any, error) {
	var path string
	if _, err := j.Param(0, &path); err != nil || path == "" {
		return nil, ValidationErrors{{Attribute: "filesystem.get.path", Message: "Input should be a valid string"}}
	}
	f.mu.Lock()
	e, ok := f.fs[path]
	var c *fsContent
	if ok && !e.sink {
		c = f.acquireLocked(path)
	}
	f.mu.Unlock()
	if !ok || e.sink {
		return nil, &CallError{Message: path + " is not a file"}
	}
	if c == nil {
		return nil, copyOut(j, &generatedReader{size: e.generated})
	}
	// The content is streamed from its spool; the reference keeps it
	// readable even if the file is replaced or removed meanwhile.
	defer f.release(c)
	r, err := c.spool.Open()
	if err != nil {
		return nil, &Exception{Type: "FileNotFoundError", Message: "[Errno 2] No such file or directory: " + pyStrRepr(path)}
	}
	return nil, copyOut(j, r)
}

// generatedReader yields GeneratedByte(0..size-1).
type generatedReader struct{ off, size int64 }

func (g *generatedReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.size-g.off))
	// The pattern repeats every 251 bytes: copy it from a precomputed
	// run instead of computing each byte.
	for done := 0; done < n; {
		start := int((g.off + int64(done)) % generatedPeriod)
		done += copy(p[done:n], generatedRun[start:])
	}
	g.off += int64(n)
	return n, nil
}

// generatedPeriod is the period of GeneratedByte; generatedRun holds the
// pattern from every phase for at least 16 KiB.
const generatedPeriod = 251

var generatedRun = func() []byte {
	b := make([]byte, generatedPeriod*66)
	for i := range b {
		b[i] = GeneratedByte(int64(i))
	}
	return b
}()

// filesystemPut is filesystem.put(path, options): write the uploaded
// file. The fake keeps the file only when the job ends well.
func (f *Files) filesystemPut(j *JobRun, _ *inputSet) (any, error) {
	var path string
	if _, err := j.Param(0, &path); err != nil || path == "" {
		return nil, ValidationErrors{{Attribute: "filesystem.put.path", Message: "String should have at least 1 character"}}
	}
	var opts struct {
		Append bool `json:"append"`
		Mode   *int `json:"mode"`
	}
	if _, err := j.Param(1, &opts); err != nil {
		return nil, &ValidationError{Attribute: "filesystem.put.options", Message: "Input should be a valid dictionary"}
	}
	if path == PwencSecretPath {
		return nil, &CallError{Message: "Cannot use filesystem.put to write pwenc secret. Use pwenc.replace instead.", Errno: int(syscall.EINVAL)}
	}
	f.mu.Lock()
	e := f.fs[path]
	sink := e != nil && e.sink
	var old *fsContent
	if !sink && opts.Append && e != nil {
		old = f.acquireLocked(path)
	}
	f.mu.Unlock()
	// The new content goes to a spool of its own (memory while small, a
	// temporary file beyond) and replaces the file only when the job ends
	// well; otherwise it is removed.
	var sp *sim.Spool
	if !sink {
		sp = f.newSpool()
	}
	n, err := f.putContent(j, sp, old)
	if err != nil {
		if sp != nil {
			_ = sp.Close()
		}
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if sink {
		if e := f.fs[path]; e != nil && e.sink {
			e.size = n
		}
		return true, nil
	}
	f.setFileLocked(path, &fsFile{content: &fsContent{spool: sp, refs: 1}, generated: -1, size: sp.Size()})
	return true, nil
}

// putContent is filesystem.put's copy: old's content first (an append;
// old's reference is released), then the job's input, into sp (nil: a
// sink, only counted). It returns how many input bytes were read.
func (f *Files) putContent(j *JobRun, sp *sim.Spool, old *fsContent) (int64, error) {
	if old != nil {
		r, err := old.spool.Open()
		if err == nil {
			_, err = io.Copy(sp, r)
		}
		f.release(old)
		if err != nil {
			return 0, &Exception{Type: "OSError", Message: err.Error()}
		}
	}
	chunk := make([]byte, 256<<10)
	var n int64
	for {
		k, err := j.Input().Read(chunk)
		n += int64(k)
		if sp != nil && k > 0 {
			if _, werr := sp.Write(chunk[:k]); werr != nil {
				return n, &Exception{Type: "OSError", Message: werr.Error()}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, jobErr(j, err)
		}
	}
	if err := j.Context().Err(); err != nil {
		return n, err
	}
	return n, nil
}

// testInputPipe is test.test_input_pipe(arg): json.dumps(arg) followed by
// the uploaded file.
func (f *Files) testInputPipe(j *JobRun, _ *inputSet) (any, error) {
	data, err := io.ReadAll(j.Input())
	if err != nil {
		return nil, jobErr(j, err)
	}
	return pyDumps(j.Params()) + string(data), nil
}

// testInputPipes concatenates every uploaded file (the mock of the
// middleware's test_upload_multiple_files).
func (f *Files) testInputPipes(j *JobRun, in *inputSet) (any, error) {
	var out strings.Builder
	for i := 0; ; i++ {
		r, err := in.next(i, j.WaitFor)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return out.String(), nil
		}
		if i == 0 {
			r = j.Input()
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, jobErr(j, err)
		}
		out.Write(data)
	}
}

// testDownloadPipe is test.test_download_pipe(arg) (and the slow variant,
// which sleeps first): write json.dumps(arg).
func (f *Files) testDownloadPipe(delay time.Duration) func(j *JobRun, _ *inputSet) (any, error) {
	return func(j *JobRun, _ *inputSet) (any, error) {
		if delay > 0 {
			if err := j.Sleep(delay); err != nil {
				return nil, err
			}
		}
		return nil, write(j, []byte(pyDumps(j.Params())))
	}
}

// pyDumps renders the first argument as the middleware's json.dumps(arg)
// does (fake/internal/pyjson). Python keeps the caller's key order, which
// decoding loses: the fake sorts the keys.
func pyDumps(params []json.RawMessage) string {
	if len(params) == 0 {
		return "null"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(params[0]))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return string(params[0])
	}
	return string(pyjson.Marshal(v))
}
