package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/longrun/longrun/jobs"
)

var treeSeeds = []string{
	`{"id":"a","state":"running","children":[{"id":"b","state":"succeeded"},{"id":"c","partial":true}]}`,
	`{"id":"a","children":[{"id":"a"}]}`,
	`{"id":"a","children":[{"id":"b","children":[{"id":"c","children":[{"id":"d","children":[{"id":"e"}]}]}]}]}`,
	`{"id":"","children":[{"id":""},{"id":""},null]}`,
	`{"id":"x","state":"failed","progress":{"percent":1e308,"known":true},"children":[{"id":"x2","progress":{"percent":-5,"known":true}}]}`,
	`[{"id":"r","state":"running","children":[{"id":"k","partial":true},{"id":"k","partial":true}]},{"id":"k","state":"succeeded","children":[{"id":"r","partial":true}]}]`,
	`[{"id":"r","children":[{"id":"p","partial":true}]},{"id":"p","partial":true}]`,
}

// FuzzWalk: any tree a server's JSON can describe is walked without a
// panic or a hang, and the only errors are *TreeError.
func FuzzWalk(f *testing.F) {
	for _, s := range treeSeeds {
		f.Add([]byte(s), 4, 50)
	}
	f.Fuzz(func(t *testing.T, data []byte, depth, nodes int) {
		var root *jobs.Job
		if json.Unmarshal(data, &root) != nil {
			return
		}
		o := jobs.WalkOptions{MaxDepth: depth % 100, MaxNodes: nodes % 10000}
		n := 0
		for _, err := range jobs.WalkWith(root, o) {
			if err != nil {
				var te *jobs.TreeError
				if !errors.As(err, &te) {
					t.Fatalf("error %T %v is not a *TreeError", err, err)
				}
				if err.Error() == "" {
					t.Fatal("empty error")
				}
				break
			}
			n++
		}
		limit := o.MaxNodes
		if limit <= 0 {
			limit = jobs.DefaultMaxNodes
		}
		if n > limit {
			t.Fatalf("walked %d nodes, limit %d", n, limit)
		}
		if err := jobs.Check(root, o); err != nil {
			var te *jobs.TreeError
			if !errors.As(err, &te) {
				t.Fatalf("Check: %T %v", err, err)
			}
		}
		_ = root.TreeDone()
		_ = root.Failed()
		p := root.Aggregate()
		if p.Percent < 0 || p.Percent > 100 || p.Percent != p.Percent {
			t.Fatalf("aggregate %v out of range", p.Percent)
		}
		_ = root.Find("b")
		_ = root.Clone()
	})
}

// fuzzSource serves documents decoded afresh on every Fetch, as a real
// service would, and ends the wait after a few rounds.
type fuzzSource struct {
	docs    map[string]json.RawMessage
	fetches int
	cancel  context.CancelFunc
}

func (s *fuzzSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	if s.fetches++; s.fetches > 20 {
		s.cancel()
		return nil, ctx.Err()
	}
	var out []*jobs.Job
	for _, id := range ids {
		if raw, ok := s.docs[id]; ok {
			var j jobs.Job
			if json.Unmarshal(raw, &j) == nil {
				j.ID = id
				out = append(out, &j)
			}
		}
	}
	return out, nil
}

// FuzzWaitTrees: Wait over any set of documents (children nested or by
// reference, ids repeated, references that turn out partial again) ends
// with a tree that is done or a typed error, never a panic or a hang.
func FuzzWaitTrees(f *testing.F) {
	for _, s := range treeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var list []json.RawMessage
		if json.Unmarshal(data, &list) != nil {
			list = []json.RawMessage{data}
		}
		docs := map[string]json.RawMessage{}
		first := ""
		for _, raw := range list {
			var j struct{ ID string }
			if json.Unmarshal(raw, &j) != nil {
				continue
			}
			if first == "" {
				first = j.ID
			}
			docs[j.ID] = raw
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src := &fuzzSource{docs: docs, cancel: cancel}
		clk := autoClock()
		job, err := jobs.Wait(ctx, src, first, jobs.WithClock(clk), jobs.WithInterval(time.Second, time.Second),
			jobs.WithWalkOptions(jobs.WalkOptions{MaxDepth: 16, MaxNodes: 1000}))
		var (
			te *jobs.TreeError
			nf *jobs.NotFoundError
			fe *jobs.FailedError
			to *jobs.TimeoutError
		)
		switch {
		case err == nil:
			if !job.TreeDone() {
				t.Fatalf("Wait succeeded with a tree that is not done: %+v", job)
			}
		case errors.As(err, &te), errors.As(err, &nf), errors.As(err, &fe), errors.As(err, &to):
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
