package upload_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
	"github.com/longrun/longrun/upload"
)

const apiKey = "1-longrunfakeapikey"

type env struct {
	srv   *fake.Server
	files *truenas.Files
	conn  *rpc.Conn
	c     *upload.Client
}

func setup(t testing.TB, opts ...upload.Option) *env {
	t.Helper()
	return setupWith(t, fake.Options{}, opts...)
}

func setupWith(t testing.TB, fo fake.Options, opts ...upload.Option) *env {
	t.Helper()
	srv := fake.NewServer(t, fo)
	conn, err := rpc.Dial(context.Background(), srv.WebsocketURL(), rpc.WithAPIKey("admin", apiKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	opts = append([]upload.Option{upload.WithAPIKey(apiKey), upload.WithClock(srv.Clock())}, opts...)
	c, err := upload.New(srv.URL(), conn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, files: srv.TrueNASFiles(), conn: conn, c: c}
}

func TestFakeConfigBackupRoundTrip(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var saved bytes.Buffer
	res, err := e.c.Download(ctx, "config.save", []any{map[string]any{}}, "truenas.db", &saved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved.Bytes(), e.files.Config()) || res.Filename != "truenas.db" || res.Job.State != jobs.StateSucceeded {
		t.Fatalf("saved %d bytes (config %d), result %+v", saved.Len(), len(e.files.Config()), res)
	}
	changed := append(saved.Bytes(), []byte("-- changed\n")...)
	up, err := e.c.Upload(ctx, "config.upload", nil, upload.FromBytes("truenas.db", changed))
	if err != nil {
		t.Fatal(err)
	}
	if up.Job.State != jobs.StateSucceeded || up.Bytes != int64(len(changed)) {
		t.Fatalf("upload result %+v", up)
	}
	if !bytes.Equal(e.files.Config(), changed) || e.files.ConfigUploads() != 1 {
		t.Fatal("the fake did not install the uploaded config")
	}
}

func TestFakeConfigSaveTarWithSecrets(t *testing.T) {
	e := setup(t)
	var out bytes.Buffer
	if _, err := e.c.Download(context.Background(), "config.save", []any{map[string]any{"secretseed": true}}, "cfg.tar", &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() < 1024 || string(out.Bytes()[257:262]) != "ustar" {
		t.Fatalf("not a tar: %d bytes", out.Len())
	}
	// config.upload takes the tar back.
	if _, err := e.c.Upload(context.Background(), "config.upload", nil, upload.FromBytes("cfg.tar", out.Bytes())); err != nil {
		t.Fatal(err)
	}
}

func TestFakeConfigUploadRejectsGarbage(t *testing.T) {
	e := setup(t)
	_, err := e.c.Upload(context.Background(), "config.upload", nil, upload.FromBytes("x.db", []byte("not a database")))
	if !errors.Is(err, jobs.ErrJobFailed) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "not valid") && !strings.Contains(err.Error(), "failed") {
		t.Fatalf("unhelpful error %v", err)
	}
}

func TestFakeFilesystemPutGet(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("longrun "), 300000) // 2.4 MB
	res, err := e.c.Upload(ctx, "filesystem.put", []any{"/mnt/tank/file.bin", map[string]any{"mode": 0o644}},
		upload.FromBytes("file.bin", data))
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := jobResult(res.Job, &ok); err != nil || !ok {
		t.Fatalf("filesystem.put result %v %v", ok, err)
	}
	got, _ := e.files.ReadFile("/mnt/tank/file.bin")
	if !bytes.Equal(got, data) {
		t.Fatalf("fake holds %d bytes, want %d", len(got), len(data))
	}
	var back bytes.Buffer
	if _, err := e.c.Download(ctx, "filesystem.get", []any{"/mnt/tank/file.bin"}, "file.bin", &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), data) {
		t.Fatalf("downloaded %d bytes, want %d", back.Len(), len(data))
	}
}

func TestFakeFilesystemGetMissingFileFailsTheDownload(t *testing.T) {
	e := setup(t)
	var out bytes.Buffer
	res, err := e.c.Download(context.Background(), "filesystem.get", []any{"/nope"}, "nope", &out)
	if !errors.Is(err, upload.ErrIncomplete) || !errors.Is(err, jobs.ErrJobFailed) {
		t.Fatalf("got %v", err)
	}
	if res == nil || res.Job == nil || !strings.Contains(res.Job.Message, "/nope is not a file") {
		t.Fatalf("result %+v", res)
	}
}

func TestFakeMultipleFiles(t *testing.T) {
	e := setup(t)
	res, err := e.c.Upload(context.Background(), "test.test_input_pipes", nil,
		upload.FromBytes("1", []byte("FILE1")), upload.FromReader("2", strings.NewReader("FILE2")),
		upload.File{Name: "3", Reader: io.MultiReader(strings.NewReader("FILE3"))})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := jobResult(res.Job, &got); err != nil || got != "FILE1FILE2FILE3" {
		t.Fatalf("result %q %v", got, err)
	}
}

func TestFakeInputPipeSeesParams(t *testing.T) {
	e := setup(t)
	res, err := e.c.Upload(context.Background(), "test.test_input_pipe", []any{map[string]any{"key": "value"}},
		upload.FromBytes("f", []byte("FILE")))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := jobResult(res.Job, &got); err != nil || got != `{"key": "value"}FILE` {
		t.Fatalf("result %q %v", got, err)
	}
}

func TestFakeUploadRefusals(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	file := func() upload.File { return upload.FromBytes("f", []byte("x")) }

	loose, err := upload.New(e.srv.URL(), e.conn, upload.WithAPIKey(apiKey), upload.WithMaxFiles(-1))
	if err != nil {
		t.Fatal(err)
	}
	six := make([]upload.File, 6)
	for i := range six {
		six[i] = upload.FromBytes(fmt.Sprint(i), []byte("x"))
	}
	_, err = loose.Send(ctx, "test.test_input_pipes", nil, six...)
	expectRefusal(t, err, upload.ErrTooManyFiles, 405)

	_, err = loose.Send(ctx, "test.test_input_pipe", nil)
	expectRefusal(t, err, upload.ErrBadPartOrder, 405)

	_, err = e.c.Send(ctx, "config.nope", nil, file())
	expectRefusal(t, err, upload.ErrUnknownMethod, 422)

	_, err = e.c.Send(ctx, "nodot", nil, file())
	expectRefusal(t, err, upload.ErrCallFailed, 412)

	bad, _ := upload.New(e.srv.URL(), e.conn, upload.WithAPIKey("1-wrongkey"))
	_, err = bad.Send(ctx, "config.upload", nil, file())
	expectRefusal(t, err, upload.ErrUnauthorized, 401)

	pw, _ := upload.New(e.srv.URL(), e.conn, upload.WithBasicAuth("admin", "wrong"))
	_, err = pw.Send(ctx, "config.upload", nil, file())
	expectRefusal(t, err, upload.ErrUnauthorized, 401)

	tok, _ := upload.New(e.srv.URL(), e.conn, upload.WithTokenSource(func(context.Context) (string, error) { return "bogus", nil }))
	_, err = tok.Send(ctx, "config.upload", nil, file())
	expectRefusal(t, err, upload.ErrForbidden, 403)

	guest, _ := upload.New(e.srv.URL(), e.conn, upload.WithBasicAuth("guest", "guest"))
	_, err = guest.Send(ctx, "config.upload", nil, file())
	expectRefusal(t, err, upload.ErrForbidden, 403)
}

func expectRefusal(t *testing.T, err error, want error, status int) {
	t.Helper()
	var te *upload.TransferError
	if !errors.Is(err, want) || !errors.As(err, &te) || te.StatusCode != status {
		t.Fatalf("got %v, want %v with status %d", err, want, status)
	}
}

func TestFakeUploadWithGeneratedToken(t *testing.T) {
	// No static credentials: each upload gets a single-use token from
	// auth.generate_token over the connection.
	srv := fake.NewServer(t, fake.Options{})
	conn, err := rpc.Dial(context.Background(), srv.WebsocketURL(), rpc.WithAPIKey("admin", apiKey))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := upload.New(srv.URL(), conn, upload.WithClock(srv.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Upload(context.Background(), "filesystem.put", []any{"/mnt/a"}, upload.FromBytes("a", []byte("abc"))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFakeSecondDownloadWithSameTokenRefused(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var raw []any
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "a.db"}, &raw); err != nil {
		t.Fatal(err)
	}
	path := raw[1].(string)
	ticket := upload.DownloadTicket{JobID: int64(raw[0].(float64)), Path: path}
	s, err := e.c.OpenTicket(ctx, ticket, e.srv.Clock().Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = e.c.OpenTicket(ctx, ticket, e.srv.Clock().Now())
	expectRefusal(t, err, upload.ErrTokenRejected, 401)
	if strings.Contains(err.Error(), strings.SplitN(path, "=", 2)[1]) {
		t.Fatalf("token in error: %v", err)
	}
}

func TestFakeDownloadAfterDeadlineRefusedAndJobEnds(t *testing.T) {
	clk := sim.NewClock(sim.Epoch) // manual: time moves only when told
	e := setupWith(t, fake.Options{Clock: clk})
	ctx := context.Background()
	var raw []any
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "a.db"}, &raw); err != nil {
		t.Fatal(err)
	}
	ticket := upload.DownloadTicket{JobID: int64(raw[0].(float64)), Path: raw[1].(string)}
	clk.Advance(upload.DownloadStartDeadline + time.Second)
	_, err := e.c.OpenTicket(ctx, ticket, clk.Now())
	expectRefusal(t, err, upload.ErrDownloadGone, 410)
	// The middleware closed the job's pipes: its write fails and the job
	// ends (FAILED with BrokenPipeError, as the real job does).
	clk.SetAuto(true)
	job, err := jobs.Wait(ctx, e.conn, fmt.Sprint(ticket.JobID), jobs.WithClock(clk))
	if !errors.Is(err, jobs.ErrJobFailed) || job.State != jobs.StateFailed || excType(job) != "BrokenPipeError" {
		t.Fatalf("job %+v, err %v", job, err)
	}
	if e.files.PendingDownloads() != 0 {
		t.Fatal("the download is still registered")
	}
}

func TestFakeDownloadJustBeforeDeadlineWorks(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	e := setupWith(t, fake.Options{Clock: clk})
	ctx := context.Background()
	var raw []any
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "a.db"}, &raw); err != nil {
		t.Fatal(err)
	}
	clk.Advance(upload.DownloadStartDeadline - time.Second)
	clk.SetAuto(true)
	s, err := e.c.OpenTicket(ctx, upload.DownloadTicket{JobID: int64(raw[0].(float64)), Path: raw[1].(string)}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(data, e.files.Config()) {
		t.Fatalf("%d bytes, %v", len(data), err)
	}
}

func TestFakeTokenForAnotherJobRefused(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var a, b []any
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "a.db"}, &a); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "b.db"}, &b); err != nil {
		t.Fatal(err)
	}
	// Job a's path with job b's token.
	tokB := strings.SplitN(b[1].(string), "?", 2)[1]
	path := strings.SplitN(a[1].(string), "?", 2)[0] + "?" + tokB
	_, err := e.c.OpenTicket(ctx, upload.DownloadTicket{JobID: int64(a[0].(float64)), Path: path}, e.srv.Clock().Now())
	expectRefusal(t, err, upload.ErrTokenRejected, 401)
}

func TestFakeCutConnectionMidDownloadIsAnError(t *testing.T) {
	e := setup(t)
	e.files.AddGeneratedFile("/mnt/tank/big.bin", 8<<20)
	e.srv.Faults().Add(sim.Fault{PathPrefix: "/_download/", TruncateAfter: 3 << 20, Times: 1})
	dir := t.TempDir()
	dst := filepath.Join(dir, "big.bin")
	res, err := e.c.DownloadFile(context.Background(), "filesystem.get", []any{"/mnt/tank/big.bin"}, "big.bin", dst)
	if !errors.Is(err, upload.ErrIncomplete) {
		t.Fatalf("got %v", err)
	}
	if _, serr := os.Stat(dst); !os.IsNotExist(serr) {
		t.Fatal("a short file was left behind")
	}
	if res == nil || res.Bytes >= 8<<20 {
		t.Fatalf("result %+v", res)
	}
	// The job's output pipe broke: it ends, not hangs.
	job, werr := jobs.Wait(context.Background(), e.conn, fmt.Sprint(res.JobID), jobs.WithClock(e.srv.Clock()))
	if werr == nil || job.State.Failure() == false {
		t.Fatalf("job %+v, %v", job, werr)
	}
}

func TestFakeDroppedDownloadIsAnError(t *testing.T) {
	e := setup(t)
	e.srv.Faults().Add(sim.Fault{PathPrefix: "/_download/", Drop: true, Times: 1})
	_, err := e.c.Download(context.Background(), "config.save", nil, "a.db", io.Discard)
	if !errors.Is(err, upload.ErrIncomplete) {
		t.Fatalf("got %v", err)
	}
}

func TestFakeSlowTransfer(t *testing.T) {
	e := setup(t)
	e.files.AddGeneratedFile("/mnt/tank/f", 5<<20)
	e.srv.Faults().Inject(truenas.FaultSlowTransfer, -1)
	start := e.srv.Clock().Now()
	var out bytes.Buffer
	var last upload.Progress
	if _, err := e.c.Download(context.Background(), "filesystem.get", []any{"/mnt/tank/f"}, "f", &out,
		upload.OnProgress(func(p upload.Progress) { last = p })); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 5<<20 || last.Done != 5<<20 {
		t.Fatalf("got %d bytes, progress %+v", out.Len(), last)
	}
	for i, b := range out.Bytes() {
		if b != truenas.GeneratedByte(int64(i)) {
			t.Fatalf("byte %d is %d", i, b)
		}
	}
	if took := e.srv.Clock().Since(start); took < 5*truenas.SlowTransferDelay {
		t.Fatalf("slow transfer took %v of fake time", took)
	}
}

func TestFakeBufferedDownload(t *testing.T) {
	e := setup(t)
	var out bytes.Buffer
	res, err := e.c.Download(context.Background(), "test.test_download_slow_pipe", []any{map[string]any{"key": "value"}}, "file.bin", &out, upload.Buffered())
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != `{"key": "value"}` || res.Job.State != jobs.StateSucceeded {
		t.Fatalf("got %q, %+v", out.String(), res.Job)
	}
}

// failAfter yields n bytes then fails.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestFakeUploadReaderFailsMidwayEndsJobCleanly(t *testing.T) {
	e := setup(t)
	e.files.WriteFile("/mnt/tank/keep", []byte("original"))
	readErr := errors.New("source disk failed")
	res, err := e.c.Upload(context.Background(), "filesystem.put", []any{"/mnt/tank/keep"},
		upload.File{Name: "keep", Reader: &failAfter{n: 2 << 20, err: readErr}})
	if !errors.Is(err, upload.ErrSource) || !errors.Is(err, readErr) {
		t.Fatalf("got %v", err)
	}
	if res == nil || res.Job == nil || res.Job.State != jobs.StateAborted {
		t.Fatalf("the job was not aborted: %+v (%v)", res, err)
	}
	if got, _ := e.files.ReadFile("/mnt/tank/keep"); string(got) != "original" {
		t.Fatalf("the truncated upload was written: %d bytes", len(got))
	}
}

func TestFakeJobDownloadLogs(t *testing.T) {
	e := setup(t)
	e.srv.TrueNAS().RegisterJobMethod("test.logging", truenas.JobMethod{Run: func(j *truenas.JobRun) (any, error) {
		j.Log("step one")
		j.Log("step two")
		return nil, nil
	}})
	h, err := e.conn.CallJob(context.Background(), "test.logging")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	id := h.ID()
	var out bytes.Buffer
	if _, err := e.c.DownloadJobLogs(context.Background(), id, "job.log", &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "step one\nstep two\n" {
		t.Fatalf("logs %q", out.String())
	}
}

func TestFakeRawRefusals(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	for _, tc := range []struct {
		name, path, ctype, body string
		auth                    string
		status                  int
		text                    string
	}{
		{"no part", "/_upload", "multipart/form-data; boundary=XX", "--XX--\r\n", "", 405, "No part found on payload"},
		{"data not first", "/_upload/", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--XX--\r\n", "", 405, `"data" part must be the first on payload`},
		{"bad json", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{nope\r\n--XX--\r\n", "", 400, "Expecting"},
		{"no method", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"params\": []}\r\n--XX--\r\n", "", 422, ""},
		{"no auth", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"config.upload\"}\r\n--XX--\r\n", "", 401, ""},
		{"no file", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"config.upload\"}\r\n--XX--\r\n", "Bearer " + apiKey, 405, `"file" not found as second part on payload`},
		{"unknown part", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"test.test_input_pipes\"}\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nA\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nB\r\n--XX--\r\n", "Bearer " + apiKey, 405, "Unknown payload part 'other'"},
		{"bad basic", "/_upload", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"config.upload\"}\r\n--XX--\r\n", "Basic !!!", 400, ""},
		{"download no token", "/_download/1", "", "", "", 401, ""},
		{"download not a job", "/_download/abc", "", "", "", 404, ""},
		{"download bad token", "/_download/1?auth_token=nope", "", "", "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodPost
			if tc.ctype == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, srv.URL()+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.text) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.text)
			}
		})
	}
}

// cancelAfter yields zeros forever and cancels its context after n bytes.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	clear(p)
	c.n -= len(p)
	if c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestFakeUploadCancelledMidway(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := e.c.Upload(ctx, "filesystem.put", []any{"/mnt/tank/x"}, upload.File{Name: "x", Reader: &cancelAfter{n: 2 << 20, cancel: cancel}})
	if !errors.Is(err, upload.ErrIncomplete) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestFakeDownloadCancelledMidway(t *testing.T) {
	e := setup(t)
	e.files.AddGeneratedFile("/mnt/tank/big", 16<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := e.c.OpenDownload(ctx, "filesystem.get", []any{"/mnt/tank/big"}, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(s, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, s)
	if !errors.Is(err, upload.ErrIncomplete) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestFakeDownloadUnknownJob(t *testing.T) {
	e := setup(t)
	admin := sim.DefaultUsers()[0]
	tok := e.srv.TrueNAS().IssueToken(admin, truenas.DownloadTokenTTL, map[string]any{"job": 999, "filename": "x"}, true)
	_, err := e.c.OpenTicket(context.Background(), upload.DownloadTicket{JobID: 999, Path: "/_download/999?auth_token=" + tok}, e.srv.Clock().Now())
	expectRefusal(t, err, upload.ErrJobNotFound, 404)
	if strings.Contains(err.Error(), tok) {
		t.Fatalf("token in error: %v", err)
	}
}

func TestFakeDownloadExpiredToken(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	e := setupWith(t, fake.Options{Clock: clk})
	ctx := context.Background()
	var raw []any
	if err := e.conn.Call(ctx, "core.download", []any{"config.save", []any{}, "a.db", true}, &raw); err != nil {
		t.Fatal(err)
	}
	clk.Advance(upload.TokenTTL + time.Second) // buffered: still offered, but the token is dead
	_, err := e.c.OpenTicket(ctx, upload.DownloadTicket{JobID: int64(raw[0].(float64)), Path: raw[1].(string)}, clk.Now())
	expectRefusal(t, err, upload.ErrTokenRejected, 401)
}

// A buffered job that runs longer than its token lives: Download waits for
// it, then renews the token with auth.generate_token.
func TestFakeBufferedDownloadRenewsToken(t *testing.T) {
	e := setup(t)
	e.srv.TrueNAS().RegisterJobMethod("test.slow_report", truenas.JobMethod{Output: true, Run: func(j *truenas.JobRun) (any, error) {
		for i := range 8 {
			if err := j.Sleep(time.Minute); err != nil {
				return nil, err
			}
			j.SetProgress(float64(i+1)*12.5, "collecting", nil)
		}
		_, err := j.Output().Write([]byte("report after eight minutes"))
		return nil, err
	}})
	start := e.srv.Clock().Now()
	var out bytes.Buffer
	res, err := e.c.Download(context.Background(), "test.slow_report", nil, "report.txt", &out, upload.Buffered())
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "report after eight minutes" || res.Job.State != jobs.StateSucceeded {
		t.Fatalf("got %q %+v", out.String(), res.Job)
	}
	if took := e.srv.Clock().Since(start); took < 8*time.Minute {
		t.Fatalf("only %v of fake time passed", took)
	}
}

func TestFakeLogsNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := setup(t, upload.WithLogger(logger))
	ctx := context.Background()
	if _, err := e.c.Download(ctx, "config.save", nil, "a.db", io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Upload(ctx, "config.upload", nil, upload.FromBytes("a.db", e.files.Config())); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "auth_token=REDACTED") {
		t.Fatalf("expected a redacted download URL in the log:\n%s", out)
	}
	if regexp.MustCompile(`[0-9a-f]{32}`).MatchString(out) || strings.Contains(out, apiKey) {
		t.Fatalf("a secret reached the log:\n%s", out)
	}
}

// TestLegacyProtocolTransfers runs a download through core.download and
// an upload with the default single-use token over the legacy /websocket
// protocol, on TrueNAS 24.10 (whose auth.generate_token takes three
// arguments) and on the newest release.
func TestLegacyProtocolTransfers(t *testing.T) {
	for _, v := range []truenas.Version{truenas.Version2410, truenas.VersionNewest} {
		t.Run(string(v), func(t *testing.T) {
			srv := fake.NewServer(t, fake.Options{})
			srv.TrueNAS().SetVersion(v)
			legacyURL := strings.TrimSuffix(srv.WebsocketURL(), "/api/current") + "/websocket"
			conn, err := rpc.Dial(context.Background(), legacyURL, rpc.WithAPIKey("admin", apiKey))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if conn.Protocol() != rpc.ProtocolLegacy {
				t.Fatalf("protocol %v", conn.Protocol())
			}
			c, err := upload.New(legacyURL, conn, upload.WithClock(srv.Clock()))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var saved bytes.Buffer
			res, err := c.Download(ctx, "config.save", []any{map[string]any{}}, "truenas.db", &saved)
			if err != nil || !bytes.Equal(saved.Bytes(), srv.TrueNASFiles().Config()) || res.Job.State != jobs.StateSucceeded {
				t.Fatalf("download: %v (%d bytes)", err, saved.Len())
			}
			res, err = c.Upload(ctx, "filesystem.put", []any{"/mnt/tank/legacy.txt", map[string]any{}},
				upload.FromBytes("legacy.txt", []byte("over /websocket")))
			if err != nil || res.Job.State != jobs.StateSucceeded {
				t.Fatalf("upload: %v", err)
			}
			if got, _ := srv.TrueNASFiles().ReadFile("/mnt/tank/legacy.txt"); string(got) != "over /websocket" {
				t.Fatalf("stored %q", got)
			}
		})
	}
}
