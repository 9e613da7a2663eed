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

// BenchmarkGetJobs1000 is one core.get_jobs call (all jobs, then one id)
// with MaxJobs finished jobs in the table.
func BenchmarkGetJobs1000(b *testing.B) {
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
	all := []json.RawMessage{json.RawMessage(`[]`)}
	one := []json.RawMessage{json.RawMessage(`[["id","=",500]]`)}
	b.ResetTimer()
	for b.Loop() {
		for _, p := range [][]json.RawMessage{all, one} {
			res, err := fn(context.Background(), s, p)
			if err != nil {
				b.Fatal(err)
			}
			_ = encodeJSON(res)
		}
	}
}

// BenchmarkStartJobManyRunning starts a job with 2*MaxJobs jobs running.
func BenchmarkStartJobManyRunning(b *testing.B) {
	be, cred := benchBackend(b)
	for range 2 * MaxJobs {
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
