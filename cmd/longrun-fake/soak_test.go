package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/rpc"
	"github.com/longrun/longrun/upload"
)

// zeros yields n zero bytes without holding them.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	clear(p)
	z.left -= int64(len(p))
	return len(p), nil
}

// procStatus reads a field (in kB) of /proc/<pid>/status.
func procStatus(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// TestSoakRSSAfterAGiBOfFtrackAttachments uploads LONGRUN_SOAK MiB (1024:
// a GiB) to the standalone fake as ftrack attachments in 128 MiB pieces and
// downloads each back, then prints the process's resident set and its
// peak. Set LONGRUN_SOAK to run it; it is a measurement, not a gate.
func TestSoakRSSAfterAGiBOfFtrackAttachments(t *testing.T) {
	mib, _ := strconv.ParseInt(os.Getenv("LONGRUN_SOAK"), 10, 64)
	if mib <= 0 {
		t.Skip("set LONGRUN_SOAK=<MiB> (1024 for the issue's GiB) to measure the fake's RSS")
	}
	s := start(t, "-speed", "0", "-log-level", "warn")
	pid := s.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")
	sess, err := ftrack.NewSession(s.url, "admin", "1-longrunfakeapikey")
	require.NoError(t, err)
	ctx := context.Background()
	job, err := sess.CreateJob(ctx, ftrack.CreateJobRequest{Description: "soak"})
	require.NoError(t, err)
	const piece = 128 << 20
	for left := mib << 20; left > 0; left -= piece {
		size := min(left, int64(piece))
		a, err := sess.Attach(ctx, job.ID, "soak.bin", &zeros{size}, size)
		require.NoError(t, err)
		rc, _, err := sess.Download(ctx, a.ComponentID)
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		require.NoError(t, err)
		require.Equal(t, size, n)
	}
	t.Logf("longrun-fake RSS: %d kB at start, %d kB after %d MiB uploaded and downloaded as ftrack attachments (peak %d kB)",
		before, procStatus(t, pid, "VmRSS"), mib, procStatus(t, pid, "VmHWM"))
}

// TestSoakRSSAfterAGiBOfTrueNASFiles uploads LONGRUN_SOAK MiB to the
// standalone fake through TrueNAS's /_upload (filesystem.put, 128 MiB at a
// time onto the same path) and downloads each back through /_download
// (filesystem.get), then prints the process's resident set and its peak.
func TestSoakRSSAfterAGiBOfTrueNASFiles(t *testing.T) {
	mib, _ := strconv.ParseInt(os.Getenv("LONGRUN_SOAK"), 10, 64)
	if mib <= 0 {
		t.Skip("set LONGRUN_SOAK=<MiB> (1024 for the issue's GiB) to measure the fake's RSS")
	}
	s := start(t, "-speed", "0", "-log-level", "warn")
	pid := s.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/api/current", rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	require.NoError(t, err)
	defer conn.Close()
	c, err := upload.New(s.url, conn)
	require.NoError(t, err)
	const piece = 128 << 20
	for left := mib << 20; left > 0; left -= piece {
		size := min(left, int64(piece))
		_, err := c.Upload(ctx, "filesystem.put", []any{"/mnt/tank/soak.bin", map[string]any{}},
			upload.FromReader("soak.bin", &zeros{size}))
		require.NoError(t, err)
		var n countingWriter
		_, err = c.Download(ctx, "filesystem.get", []any{"/mnt/tank/soak.bin"}, "soak.bin", &n)
		require.NoError(t, err)
		require.EqualValues(t, size, n)
	}
	t.Logf("longrun-fake RSS: %d kB at start, %d kB after %d MiB uploaded and downloaded as TrueNAS files (peak %d kB)",
		before, procStatus(t, pid, "VmRSS"), mib, procStatus(t, pid, "VmHWM"))
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
