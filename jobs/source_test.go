package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// memSource is an in-memory Source whose jobs progress linearly on a sim
// clock. Children may be nested (full documents) or references (Partial).
type memSource struct {
	mu      sync.Mutex
	clk     *sim.Clock
	start   time.Time
	specs   map[string]*spec
	fetches int
	rounds  [][]string // ids asked per Fetch
	errs    []error    // errors to return from the next Fetch calls, in order
}

type spec struct {
	id       string
	dur      time.Duration // time to reach 100
	children []string
	refs     bool   // children given as references
	failAt   int    // percent at which the job fails (0: never)
	state    string // fixed raw state, overrides progress logic when set
}

func newMemSource(clk *sim.Clock) *memSource {
	return &memSource{clk: clk, start: clk.Now(), specs: map[string]*spec{}}
}

func (m *memSource) add(s *spec) { m.specs[s.id] = s }

func (m *memSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetches++
	m.rounds = append(m.rounds, append([]string(nil), ids...))
	if len(m.errs) > 0 {
		err := m.errs[0]
		m.errs = m.errs[1:]
		return nil, err
	}
	var out []*jobs.Job
	for _, id := range ids {
		if s, ok := m.specs[id]; ok {
			out = append(out, m.doc(s, 0))
		}
	}
	return out, nil
}

func (m *memSource) doc(s *spec, depth int) *jobs.Job {
	elapsed := m.clk.Now().Sub(m.start)
	pct := 100.0
	if s.dur > 0 {
		pct = min(100, float64(elapsed)*100/float64(s.dur))
	}
	j := &jobs.Job{ID: s.id, Operation: "test", Progress: jobs.Progress{Percent: pct, Known: true}}
	switch {
	case s.state != "":
		j.RawState = s.state
		j.State = jobs.StateUnknown
	case s.failAt > 0 && pct >= float64(s.failAt):
		j.State, j.RawState, j.Message = jobs.StateFailed, "failed", "disk on fire"
	case pct >= 100:
		j.State, j.RawState = jobs.StateSucceeded, "success"
	default:
		j.State, j.RawState = jobs.StateRunning, "started"
	}
	for _, c := range s.children {
		if s.refs {
			j.Children = append(j.Children, &jobs.Job{ID: c, Partial: true})
		} else if cs, ok := m.specs[c]; ok && depth < 1000 {
			j.Children = append(j.Children, m.doc(cs, depth+1))
		}
	}
	return j
}

func (m *memSource) stats() (int, [][]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fetches, append([][]string(nil), m.rounds...)
}

// serverClone adds a root with n children, nested or by reference.
func (m *memSource) serverClone(root string, n int, refs bool, dur time.Duration) []string {
	var kids []string
	for i := range n {
		id := fmt.Sprintf("%s-disk-%03d", root, i)
		kids = append(kids, id)
		m.add(&spec{id: id, dur: dur + time.Duration(i)*time.Second})
	}
	m.add(&spec{id: root, dur: dur, children: kids, refs: refs})
	return kids
}

func autoClock() *sim.Clock {
	c := sim.NewClock(sim.Epoch)
	c.SetAuto(true)
	return c
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

type tempErr struct{ retryAfter time.Duration }

func (tempErr) Error() string               { return "503 try later" }
func (tempErr) Temporary() bool             { return true }
func (e tempErr) RetryAfter() time.Duration { return e.retryAfter }

var errPermanent = errors.New("401 unauthorized")
