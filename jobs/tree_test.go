package jobs_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/jobs"
)

func tree() *jobs.Job {
	return &jobs.Job{ID: "root", State: jobs.StateRunning, Progress: jobs.Progress{Percent: 40, Known: true}, Children: []*jobs.Job{
		{ID: "a", State: jobs.StateSucceeded, Progress: jobs.Progress{Percent: 100, Known: true}},
		{ID: "b", State: jobs.StateRunning, Progress: jobs.Progress{Percent: 50, Known: true}, Children: []*jobs.Job{
			{ID: "b1", State: jobs.StateRunning, Progress: jobs.Progress{Percent: 20, Known: true}},
			{ID: "b2", State: jobs.StateRunning},
		}},
	}}
}

func TestWalkOrderDepthAndParents(t *testing.T) {
	var got []string
	var depths []int
	parents := map[string]string{}
	for n, err := range jobs.Walk(tree()) {
		require.NoError(t, err)
		got = append(got, n.Job.ID)
		depths = append(depths, n.Depth)
		if n.Parent != nil {
			parents[n.Job.ID] = n.Parent.ID
		}
	}
	assert.Equal(t, []string{"root", "a", "b", "b1", "b2"}, got)
	assert.Equal(t, []int{0, 1, 1, 2, 2}, depths)
	assert.Equal(t, map[string]string{"a": "root", "b": "root", "b1": "b", "b2": "b"}, parents)
}

func TestWalkStopsWhenTheLoopBreaks(t *testing.T) {
	n := 0
	for range jobs.Walk(tree()) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)
}

func TestWalkPointerCycle(t *testing.T) {
	root := &jobs.Job{ID: "r"}
	child := &jobs.Job{ID: "c", Children: []*jobs.Job{root}}
	root.Children = []*jobs.Job{child}
	err := jobs.Check(root, jobs.WalkOptions{})
	require.ErrorIs(t, err, jobs.ErrCycle)
	var te *jobs.TreeError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, []string{"r", "c", "r"}, te.Path)
	assert.False(t, root.TreeDone())
	assert.Nil(t, root.Find("nope"))
}

func TestWalkIDCycleAcrossDocuments(t *testing.T) {
	// Two distinct documents claiming the same uuid on one path.
	root := &jobs.Job{ID: "r", Children: []*jobs.Job{{ID: "c", Children: []*jobs.Job{{ID: "r"}}}}}
	require.ErrorIs(t, jobs.Check(root, jobs.WalkOptions{}), jobs.ErrCycle)
	// The same id twice as siblings is not a cycle.
	ok := &jobs.Job{ID: "r", Children: []*jobs.Job{{ID: "x"}, {ID: "x"}}}
	require.NoError(t, jobs.Check(ok, jobs.WalkOptions{}))
}

func TestWalkHundredThousandDeep(t *testing.T) {
	root := &jobs.Job{ID: "0"}
	cur := root
	for i := 1; i < 100_000; i++ {
		next := &jobs.Job{ID: itoa(i)}
		cur.Children = []*jobs.Job{next}
		cur = next
	}
	err := jobs.Check(root, jobs.WalkOptions{})
	require.ErrorIs(t, err, jobs.ErrTooDeep)
	var te *jobs.TreeError
	require.ErrorAs(t, err, &te)
	assert.LessOrEqual(t, len(te.Path), 17, "the path in the error is abbreviated")
	// A caller may allow the depth explicitly; the walk is iterative.
	n := 0
	for _, err := range jobs.WalkWith(root, jobs.WalkOptions{MaxDepth: 200_000}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 100_000, n)
	// Find keeps the default bounds and stops quietly.
	assert.Nil(t, root.Find("99999"))
}

func TestWalkTooLarge(t *testing.T) {
	root := &jobs.Job{ID: "r"}
	for i := range 50 {
		root.Children = append(root.Children, &jobs.Job{ID: itoa(i)})
	}
	require.ErrorIs(t, jobs.Check(root, jobs.WalkOptions{MaxNodes: 10}), jobs.ErrTooLarge)
	require.NoError(t, jobs.Check(root, jobs.WalkOptions{}))
}

func TestDoneAndAggregate(t *testing.T) {
	tr := tree()
	assert.False(t, tr.TreeDone())
	p := tr.Aggregate()
	assert.True(t, p.Known)
	assert.InDelta(t, (100+20+0)/3.0, p.Percent, 1e-9)
	assert.Nil(t, tr.Failed())

	for n := range jobs.Walk(tr) {
		n.Job.State = jobs.StateSucceeded
	}
	assert.True(t, tr.TreeDone())
	assert.Equal(t, 100.0, tr.Aggregate().Percent)

	tr.Find("b2").State = jobs.StateAborted
	assert.Equal(t, "b2", tr.Failed().ID)

	// Progress 100 without a terminal state is not done: what 100 means is
	// the dialect's to say when it normalizes (TrueNAS reports 100% while
	// still RUNNING; CloudSigma's conversion maps 100 to succeeded).
	j := &jobs.Job{ID: "x", State: jobs.StateRunning, RawState: "RUNNING", Progress: jobs.Progress{Percent: 100, Known: true}}
	assert.False(t, j.Done())
	// A partial reference is never done.
	assert.False(t, (&jobs.Job{ID: "y", Partial: true, State: jobs.StateSucceeded}).Done())
	// Out-of-range progress is clamped in the aggregate.
	odd := &jobs.Job{ID: "o", Children: []*jobs.Job{{ID: "1", Progress: jobs.Progress{Percent: 250, Known: true}}, {ID: "2", Progress: jobs.Progress{Percent: -5, Known: true}}}}
	assert.Equal(t, 50.0, odd.Aggregate().Percent)
}

func TestCloneIsDeepAndCycleSafe(t *testing.T) {
	tr := tree()
	c := tr.Clone()
	c.Find("b1").Progress.Percent = 99
	assert.Equal(t, 20.0, tr.Find("b1").Progress.Percent)

	root := &jobs.Job{ID: "r"}
	root.Children = []*jobs.Job{root}
	cc := root.Clone()
	require.Len(t, cc.Children, 1)
	assert.Empty(t, cc.Children[0].Children)
}

func TestFailedErrorMatching(t *testing.T) {
	tr := tree()
	node := tr.Find("b1")
	node.State, node.RawState, node.Message = jobs.StateAborted, "ABORTED", "stopped by user"
	err := error(&jobs.FailedError{Job: tr, Node: node})
	assert.True(t, errors.Is(err, jobs.ErrJobFailed))
	assert.True(t, errors.Is(err, jobs.ErrJobAborted))
	assert.Contains(t, err.Error(), "ABORTED")
	assert.Contains(t, err.Error(), "under job root")
}
