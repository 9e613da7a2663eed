package upload_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/upload"
)

// benchSizes are the stream sizes benchmarked: 64 MiB always, 1 GiB with
// LONGRUN_BIG=1.
func benchSizes() []int64 {
	sizes := []int64{64 << 20}
	if os.Getenv("LONGRUN_BIG") == "1" {
		sizes = append(sizes, 1<<30)
	}
	return sizes
}

func sizeName(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%dGiB", n>>30)
	}
	return fmt.Sprintf("%dMiB", n>>20)
}

// patternReader yields size bytes of GeneratedByte without allocating.
type patternReader struct{ off, size int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-r.off))
	for i := range p[:n] {
		p[i] = truenas.GeneratedByte(r.off + int64(i))
	}
	r.off += int64(n)
	return n, nil
}

// BenchmarkUpload streams a file through POST /_upload into a
// filesystem.put job of the in-process fake (which counts and discards
// it) and waits for the job. B/op must not grow with the size.
func BenchmarkUpload(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(sizeName(size), func(b *testing.B) {
			e := setup(b)
			e.files.AddSink("/mnt/sink")
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := e.c.Upload(ctx, "filesystem.put", []any{"/mnt/sink"},
					upload.File{Name: "blob", Reader: &patternReader{size: size}, Size: size})
				if err != nil {
					b.Fatal(err)
				}
				if res.Bytes != size {
					b.Fatalf("sent %d", res.Bytes)
				}
			}
			b.StopTimer()
			if got, _ := e.files.FileSize("/mnt/sink"); got != size {
				b.Fatalf("the fake received %d bytes", got)
			}
		})
	}
}

// BenchmarkDownload streams a generated file out of a filesystem.get job
// of the in-process fake through core.download and GET /_download into
// io.Discard, and waits for the job.
func BenchmarkDownload(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(sizeName(size), func(b *testing.B) {
			e := setup(b)
			e.files.AddGeneratedFile("/mnt/gen", size)
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := e.c.Download(ctx, "filesystem.get", []any{"/mnt/gen"}, "gen", io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				if res.Bytes != size {
					b.Fatalf("got %d", res.Bytes)
				}
			}
		})
	}
}
