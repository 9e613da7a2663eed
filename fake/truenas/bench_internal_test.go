package truenas

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

func benchBackend(b *testing.B) (*Backend, *Credentials) {
	b.Helper()
	be := New(sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil))
	b.Cleanup(be.Close)
	be.RegisterJobMethod("bench.noop", JobMethod{Run: func(r *JobRun) (any, error) {
		r.SetProgress(50, "half way", nil)
		return map[string]any{"ok": true}, nil
	}})
	be.RegisterJobMethod("bench.block", JobMethod{Run: func(r *JobRun) (any, error) {
		return nil, r.WaitFor(nil)
	}})
	u := be.Env().Users()[0]
	return be, &Credentials{User: u, Type: CredLoginPassword}
}

// BenchmarkGetJobs1000 is core.get_jobs with MaxJobs finished jobs in the
// table: all of them, and one by id.
func BenchmarkGetJobs1000(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchGetJobs(b, `[]`) })
	b.Run("one", func(b *testing.B) { benchGetJobs(b, `[["id","=",500]]`) })
}

func benchGetJobs(b *testing.B, filter string) {
	be, cred := benchBackend(b)
	for range MaxJobs {
		j, err := be.startJob(cred, "bench.noop", nil, Pipes{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		<-j.Done()
	}
	s := &Session{b: be, cred: cred, subs: map[string]string{}}
	fn := be.methods["core.get_jobs"].fn
	p := []json.RawMessage{json.RawMessage(filter)}
	b.ResetTimer()
	for b.Loop() {
		res, err := fn(context.Background(), s, p)
		if err != nil {
			b.Fatal(err)
		}
		_ = encodeJSON(res)
	}
}

// BenchmarkStartJobManyRunning starts a job with 2,000 and 10,000 jobs
// running: the cost must not grow with the table.
func BenchmarkStartJobManyRunning(b *testing.B) {
	b.Run("2000", func(b *testing.B) { benchStart(b, 2*MaxJobs) })
	b.Run("10000", func(b *testing.B) { benchStart(b, 10*MaxJobs) })
}

func benchStart(b *testing.B, running int) {
	be, cred := benchBackend(b)
	for range running {
		if _, err := be.startJob(cred, "bench.block", nil, Pipes{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := be.startJob(cred, "bench.block", nil, Pipes{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeneratedRead reads 64 MiB of a generated file.
func BenchmarkGeneratedRead(b *testing.B) {
	buf := make([]byte, 32<<10)
	b.SetBytes(64 << 20)
	for b.Loop() {
		g := &generatedReader{size: 64 << 20}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{g}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGeneratedReaderMatchesGeneratedByte(t *testing.T) {
	for _, size := range []int64{0, 1, 250, 251, 252, 70000} {
		for _, chunk := range []int{1, 7, 251, 4096, 100000} {
			g := &generatedReader{size: size}
			var got []byte
			buf := make([]byte, chunk)
			for {
				n, err := g.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
			}
			if int64(len(got)) != size {
				t.Fatalf("size %d chunk %d: read %d", size, chunk, len(got))
			}
			for i, c := range got {
				if c != GeneratedByte(int64(i)) {
					t.Fatalf("size %d chunk %d: byte %d = %d", size, chunk, i, c)
				}
			}
		}
	}
}
