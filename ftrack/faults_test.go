package ftrack_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/rest"
)

func TestFaults(t *testing.T) {
	srv, s := newSession(t, ftrack.WithRetry(2, time.Millisecond, time.Millisecond))
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	if err != nil {
		t.Fatal(err)
	}

	// A 503 says the server did not act: the batch is sent again.
	srv.Faults().Add(sim.Fault{Method: "POST", PathPrefix: "/api", Times: 1, Status: 503, Body: "busy"})
	if _, err := s.SetDescription(ctx, job.ID, "after a 503"); err != nil {
		t.Fatalf("503 not retried: %v", err)
	}
	// A 500 that is not an ftrack error body is a plain HTTP error; a POST
	// is not repeated.
	srv.Faults().Add(sim.Fault{Method: "POST", PathPrefix: "/api", Times: 1, Status: 500, Body: "<html>oops</html>"})
	_, err = s.GetJob(ctx, job.ID)
	var ae *rest.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 {
		t.Fatalf("500: %v", err)
	}
	// A reply cut short is a decode error, not a silent empty result.
	srv.Faults().Add(sim.Fault{Method: "POST", PathPrefix: "/api", Times: 1, TruncateAfter: 20})
	_, err = s.GetJob(ctx, job.ID)
	var re *rest.RequestError
	if !errors.As(err, &re) || !errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), adminKey) {
		t.Fatalf("truncated reply: %T %v", err, err)
	}

	// An upload whose connection drops fails typed; nothing is attached.
	srv.Faults().Add(sim.Fault{Method: "PUT", PathPrefix: "/ftrack-fake/upload/", Times: 1, Drop: true})
	_, err = s.Attach(ctx, job.ID, "a.log", io.LimitReader(strings.NewReader(strings.Repeat("x", 1<<20)), 1<<20), 1<<20)
	var ue *ftrack.UploadError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "signature=") && !strings.Contains(err.Error(), "signature=REDACTED") {
		t.Fatalf("dropped upload: %v", err)
	}
	if list, err := s.Attachments(ctx, job.ID); err != nil || len(list) != 0 {
		t.Fatalf("attachments after a failed upload: %v %v", list, err)
	}

	// A download cut short reports an error while reading.
	a, err := s.Attach(ctx, job.ID, "b.log", strings.NewReader(strings.Repeat("y", 100000)), 100000)
	if err != nil {
		t.Fatal(err)
	}
	srv.Faults().Add(sim.Fault{Method: "GET", PathPrefix: "/component/get", Times: 1, TruncateAfter: 1000})
	rc, _, err := s.Download(ctx, a.ComponentID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err == nil || n >= 100000 {
		t.Fatalf("truncated download: %d bytes, %v", n, err)
	}
}

func TestUploadChecksumMismatch(t *testing.T) {
	_, s := newSession(t)
	ctx := context.Background()
	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	// A reader that changes between the checksum pass and the upload.
	r := &flipReader{data: []byte(strings.Repeat("z", 4096))}
	_, err := s.Attach(ctx, job.ID, "c.bin", r, 4096)
	var ue *ftrack.UploadError
	if !errors.As(err, &ue) || ue.StatusCode != 400 || !strings.Contains(ue.Body, "BadDigest") {
		t.Fatalf("changed file: %v", err)
	}
}

// flipReader is an io.ReadSeeker whose bytes change after the first pass.
type flipReader struct {
	data   []byte
	off    int
	passes int
}

func (f *flipReader) Read(p []byte) (int, error) {
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.off:])
	if f.passes > 0 {
		for i := range n {
			p[i] ^= 1
		}
	}
	f.off += n
	return n, nil
}

func (f *flipReader) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		f.off = int(off)
		f.passes++
	}
	return int64(f.off), nil
}
