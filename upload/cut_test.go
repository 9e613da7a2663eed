package upload_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/upload"
)

var errCut = errors.New("test: connection cut")

// cutBody yields n bytes of the request body, then fails: the transport
// drops the connection mid-file, as a network cut does.
type cutBody struct {
	r io.ReadCloser
	n int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errCut
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	return k, err
}

func (b *cutBody) Close() error { return b.r.Close() }

type cutTransport struct{ n int64 }

func (t cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Body = &cutBody{r: r.Body, n: t.n}
	return http.DefaultTransport.RoundTrip(r2)
}

// TestUploadCutMidFile cuts an upload's connection in the middle of the
// file. The middleware takes the closed stream for the end of the file,
// so its job may commit a short copy: the upload must fail, name the job,
// and say the destination may be short (ErrIncomplete, Committed).
func TestUploadCutMidFile(t *testing.T) {
	e := setup(t, upload.WithHTTPClient(&http.Client{Transport: cutTransport{n: 1 << 20}}))
	const dst = "/mnt/tank/cut.bin"
	original := []byte("original contents")
	e.files.WriteFile(dst, original)
	data := bytes.Repeat([]byte("0123456789abcdef"), (4<<20)/16)

	res, err := e.c.Upload(context.Background(), "filesystem.put", []any{dst, map[string]any{}},
		upload.FromBytes("cut.bin", data))
	if err == nil {
		t.Fatalf("a cut upload reported success: %+v", res)
	}
	var te *upload.TransferError
	if !errors.As(err, &te) || !errors.Is(err, upload.ErrIncomplete) {
		t.Fatalf("want an ErrIncomplete *TransferError, got %v", err)
	}
	if te.JobID == "" || res == nil || res.JobID != te.JobID || res.Job == nil {
		t.Fatalf("the error names no job: %v (result %+v)", err, res)
	}
	if res.Job.State == jobs.StateRunning || res.Job.State == jobs.StateQueued {
		t.Fatalf("the job is left %s", res.Job.State)
	}
	got, _ := e.files.ReadFile(dst)
	short := !bytes.Equal(got, original) && !bytes.Equal(got, data)
	if (short || res.Job.State == jobs.StateSucceeded) && !te.Committed {
		t.Fatalf("destination is %d bytes (job %s) but the error does not say so: %v", len(got), res.Job.State, err)
	}
	t.Logf("job %s, destination %d bytes, committed %v: %v", res.Job.State, len(got), te.Committed, err)
	if bytes.Equal(got, data) {
		t.Fatalf("the whole file arrived through a cut connection")
	}
}
