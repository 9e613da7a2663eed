package ftrack_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
)

// genReader yields n deterministic pseudo-random bytes without holding
// them, and samples the heap every sampleEvery bytes.
type genReader struct {
	left, read  int64
	state       uint64
	sampleEvery int64
	nextSample  int64
	peakHeap    uint64
}

func newGen(n int64) *genReader {
	return &genReader{left: n, state: 0x9e3779b97f4a7c15, sampleEvery: 8 << 20, nextSample: 8 << 20}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		g.state ^= g.state << 13
		g.state ^= g.state >> 7
		g.state ^= g.state << 17
		p[i] = byte(g.state)
	}
	g.left -= int64(len(p))
	g.read += int64(len(p))
	if g.read >= g.nextSample {
		g.nextSample += g.sampleEvery
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g.peakHeap = max(g.peakHeap, ms.HeapInuse)
	}
	return len(p), nil
}

// bigSize is 1 GiB with LONGRUN_BIG=1, else def.
func bigSize(def int64) int64 {
	if os.Getenv("LONGRUN_BIG") == "1" {
		return 1 << 30
	}
	return def
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestAttachStreamsInConstantMemory uploads 32 MiB (1 GiB with
// LONGRUN_BIG=1) through the in-process fake, client and server in the
// same heap, and checks the heap never grows by more than a small bound
// while the bytes flow; then downloads them the same way.
func TestAttachStreamsInConstantMemory(t *testing.T) {
	size := bigSize(32 << 20)
	srv := fake.NewServer(t, fake.Options{})
	s, err := ftrack.NewSession(srv.URL(), adminUser, adminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "big"})
	if err != nil {
		t.Fatal(err)
	}
	base := heapInuse()
	gen := newGen(size)
	a, err := s.Attach(ctx, job.ID, "big.bin", gen, size)
	if err != nil {
		t.Fatal(err)
	}
	const bound = 16 << 20
	if gen.peakHeap > base+bound {
		t.Fatalf("heap grew from %d to %d bytes while uploading %d bytes", base, gen.peakHeap, size)
	}
	got, _, ok := srv.Ftrack().File(a.ComponentID)
	if !ok || got != size {
		t.Fatalf("fake stored %d bytes, want %d", got, size)
	}
	rc, _, err := s.Download(ctx, a.ComponentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	check := newGen(size) // the same sequence, to compare against
	buf, want := make([]byte, 256<<10), make([]byte, 256<<10)
	var n int64
	var peak uint64
	for {
		k, rerr := rc.Read(buf)
		if k > 0 {
			if _, err := io.ReadFull(check, want[:k]); err != nil {
				t.Fatal(err)
			}
			if string(buf[:k]) != string(want[:k]) {
				t.Fatalf("downloaded bytes differ at offset %d", n)
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
	}
	peak = check.peakHeap
	if n != size {
		t.Fatalf("downloaded %d of %d bytes", n, size)
	}
	if peak > base+bound {
		t.Fatalf("heap grew from %d to %d bytes while downloading", base, peak)
	}
	t.Logf("%d MiB: heap in use %0.1f MiB before, peak %0.1f MiB uploading, %0.1f MiB downloading",
		size>>20, float64(base)/(1<<20), float64(gen.peakHeap)/(1<<20), float64(peak)/(1<<20))
}

// BenchmarkAttach measures one attachment (two batches and the streamed
// PUT) of 1 MiB and of 64 MiB (1 GiB with LONGRUN_BIG=1); B/op stays flat
// as the size grows.
func BenchmarkAttach(b *testing.B) {
	for _, sz := range []struct {
		name string
		n    int64
	}{{"1MiB", 1 << 20}, {"big", bigSize(64 << 20)}} {
		b.Run(sz.name, func(b *testing.B) {
			srv := fake.NewServer(b, fake.Options{})
			s, _ := ftrack.NewSession(srv.URL(), adminUser, adminKey)
			ctx := context.Background()
			job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(sz.n)
			b.ReportAllocs()
			base := heapInuse()
			var peak uint64
			b.ResetTimer()
			for b.Loop() {
				gen := newGen(sz.n)
				if _, err := s.Attach(ctx, job.ID, "bench.bin", gen, sz.n); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, gen.peakHeap)
			}
			if peak > base {
				b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-growth-MiB")
			} else {
				b.ReportMetric(0, "peak-heap-growth-MiB")
			}
		})
	}
}

// samplingFile is an *os.File as an io.ReaderAt that samples the heap every
// 8 MiB read (Attach reads a file's parts through ReadAt, in parallel).
type samplingFile struct {
	f    *os.File
	mu   sync.Mutex
	read int64
	peak uint64
}

func (s *samplingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.f.ReadAt(p, off)
	s.mu.Lock()
	before := s.read
	s.read += int64(n)
	if s.read>>23 != before>>23 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peak = max(s.peak, ms.HeapInuse)
	}
	s.mu.Unlock()
	return n, err
}

func (s *samplingFile) Read(p []byte) (int, error) { return s.f.Read(p) }

// BenchmarkAttachMultipart measures a multipart Attach of 64 MiB (1 GiB
// with LONGRUN_BIG=1: 32 parts of 32 MiB) to the in-process fake, from a
// file (its parts sent 6 at once, read straight from it) and from a plain
// reader (parts one after the other, streamed); throughput in MB/s and the
// heap's peak growth, client and fake together.
func BenchmarkAttachMultipart(b *testing.B) {
	size := bigSize(64 << 20)
	path := filepath.Join(b.TempDir(), "big.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, newGen(size)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for _, from := range []string{"file", "reader"} {
		b.Run(from, func(b *testing.B) {
			srv := fake.NewServer(b, fake.Options{})
			s, _ := ftrack.NewSession(srv.URL(), adminUser, adminKey)
			ctx := context.Background()
			job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			base := heapInuse()
			var peak uint64
			for b.Loop() {
				var a *ftrack.Attachment
				if from == "file" {
					fh, err := os.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					sf := &samplingFile{f: fh}
					a, err = s.Attach(ctx, job.ID, "bench.bin", sf, size)
					fh.Close()
					if err != nil {
						b.Fatal(err)
					}
					peak = max(peak, sf.peak)
				} else {
					gen := newGen(size)
					a, err = s.Attach(ctx, job.ID, "bench.bin", gen, size)
					if err != nil {
						b.Fatal(err)
					}
					peak = max(peak, gen.peakHeap)
				}
				b.StopTimer()
				if err := s.Remove(ctx, a.ComponentID); err != nil { // keep the disk from filling up
					b.Fatal(err)
				}
				b.StartTimer()
			}
			growth := 0.0
			if peak > base {
				growth = float64(peak-base) / (1 << 20)
			}
			b.ReportMetric(growth, "peak-heap-growth-MiB")
		})
	}
}
