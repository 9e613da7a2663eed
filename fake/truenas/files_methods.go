package truenas

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// fsFile is one file of the fake filesystem: content in memory, a
// generated pattern of a given size (no memory), or a sink that keeps
// only its size.
type fsFile struct {
	data      []byte
	generated int64 // >= 0: size of a generated file
	sink      bool
	size      int64
}

// WriteFile stores a file in the fake filesystem (filesystem.get serves it).
func (f *Files) WriteFile(path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fs[path] = &fsFile{data: append([]byte(nil), data...), generated: -1, size: int64(len(data))}
}

// ReadFile returns a file of the fake filesystem (what filesystem.put
// wrote). A generated file or a sink has no content to return.
func (f *Files) ReadFile(path string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.fs[path]
	if !ok || e.sink || e.generated >= 0 {
		return nil, false
	}
	return append([]byte(nil), e.data...), true
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
	f.fs[path] = &fsFile{generated: size, size: size}
}

// GeneratedByte is the content of a generated file at offset i.
func GeneratedByte(i int64) byte { return byte(i % 251) }

// AddSink makes path a file that counts what filesystem.put writes to it
// and keeps none of it, like /dev/null: large uploads cost the fake no
// memory. FileSize reports the count.
func (f *Files) AddSink(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fs[path] = &fsFile{sink: true, generated: -1}
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
	f.WriteFile(path, []byte(strings.Join(logs, "\n")+"\n"))
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
	f.mu.Unlock()
	if !ok || e.sink {
		return nil, &CallError{Message: path + " is not a file"}
	}
	if e.generated < 0 {
		return nil, copyOut(j, bytes.NewReader(e.data))
	}
	return nil, copyOut(j, &generatedReader{size: e.generated})
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
	f.mu.Unlock()
	chunk := make([]byte, 256<<10)
	var data bytes.Buffer
	var n int64
	for {
		k, err := j.Input().Read(chunk)
		n += int64(k)
		if !sink {
			data.Write(chunk[:k])
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if sink {
		f.fs[path].size = n
		return true, nil
	}
	old := f.fs[path]
	content := data.Bytes()
	if opts.Append && old != nil && old.generated < 0 && !old.sink {
		content = append(append([]byte(nil), old.data...), content...)
	}
	f.fs[path] = &fsFile{data: content, generated: -1, size: int64(len(content))}
	return true, nil
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

// pyDumps renders the first argument like Python's json.dumps (", " and
// ": " separators).
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
	var b strings.Builder
	pyDump(&b, v)
	return b.String()
}

func pyDump(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		// json.dumps keeps the caller's key order, which decoding loses:
		// the fake sorts the keys.
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteString(", ")
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(": ")
			pyDump(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, val := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyDump(b, val)
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(x.String())
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}
