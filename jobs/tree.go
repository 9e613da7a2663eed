package jobs

import (
	"errors"
	"fmt"
	"iter"
)

// DefaultMaxDepth is how deep a job tree may nest before Walk and Wait stop
// with ErrTooDeep. Real services nest two or three levels.
const DefaultMaxDepth = 64

// DefaultMaxNodes is how many nodes a job tree may hold before Walk and Wait
// stop with ErrTooLarge.
const DefaultMaxNodes = 1 << 20

// Sentinel errors for malformed trees. A *TreeError wraps one of them.
var (
	// ErrCycle means a job appears among its own descendants.
	ErrCycle = errors.New("jobs: job tree has a cycle")
	// ErrTooDeep means the tree nests deeper than the allowed depth.
	ErrTooDeep = errors.New("jobs: job tree is too deep")
	// ErrTooLarge means the tree holds more nodes than allowed.
	ErrTooLarge = errors.New("jobs: job tree has too many nodes")
)

// TreeError reports a malformed job tree: which sentinel, and the path of
// job ids from the root to where the walk stopped.
type TreeError struct {
	Err  error    // ErrCycle, ErrTooDeep or ErrTooLarge
	Path []string // ids from the root down to the offending node (at most the first 8 and last 8)
}

// Error gives the sentinel and the path of ids.
func (e *TreeError) Error() string {
	return fmt.Sprintf("%v at %v", e.Err, e.Path)
}

// Unwrap returns the sentinel.
func (e *TreeError) Unwrap() error { return e.Err }

// Node is one step of a Walk: the job, its depth (the root is 0) and its
// parent (nil for the root).
type Node struct {
	Job    *Job
	Parent *Job
	Depth  int
}

// WalkOptions bound a walk. Zero values take the defaults.
type WalkOptions struct {
	MaxDepth int // default DefaultMaxDepth
	MaxNodes int // default DefaultMaxNodes
}

func (o WalkOptions) norm() WalkOptions {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	return o
}

// Walk yields every node of the tree rooted at root, depth first, parents
// before children, with the default bounds. See WalkWith.
func Walk(root *Job) iter.Seq2[Node, error] { return WalkWith(root, WalkOptions{}) }

// WalkWith yields every node of the tree rooted at root, depth first, parents
// before children. It never recurses on the Go stack and never loops: a job
// that is its own ancestor (by pointer or by id) ends the walk with a
// *TreeError wrapping ErrCycle, and a tree beyond the bounds ends it with
// ErrTooDeep or ErrTooLarge. After an error the sequence stops.
func WalkWith(root *Job, o WalkOptions) iter.Seq2[Node, error] {
	o = o.norm()
	return func(yield func(Node, error) bool) {
		if root == nil {
			return
		}
		type frame struct {
			job    *Job
			parent *Job
			depth  int
			next   int // index of the next child to visit
		}
		// Small trees (every real service's) check the path by scanning
		// the stack, which allocates nothing; past pathScan levels the walk
		// switches to maps so a deep chain stays linear.
		var buf [8]frame
		stack := append(buf[:0], frame{job: root})
		var onPathPtr map[*Job]bool
		var onPathID map[string]int
		onPath := func(child *Job) bool {
			if onPathPtr != nil {
				return onPathPtr[child] || (child.ID != "" && onPathID[child.ID] > 0)
			}
			for i := range stack {
				if j := stack[i].job; j == child || (child.ID != "" && j.ID == child.ID) {
					return true
				}
			}
			return false
		}
		count := 1
		if !yield(Node{Job: root}, nil) {
			return
		}
		path := func(extra *Job) []string {
			p := make([]string, 0, len(stack)+1)
			for _, f := range stack {
				p = append(p, f.job.ID)
			}
			if extra != nil {
				p = append(p, extra.ID)
			}
			if len(p) > 16 {
				p = append(append(p[:8:8], "…"), p[len(p)-8:]...)
			}
			return p
		}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next >= len(top.job.Children) {
				if onPathPtr != nil {
					onPathPtr[top.job] = false
					if top.job.ID != "" {
						onPathID[top.job.ID]--
					}
				}
				stack = stack[:len(stack)-1]
				continue
			}
			child := top.job.Children[top.next]
			top.next++
			if child == nil {
				continue
			}
			depth := top.depth + 1
			if onPath(child) {
				yield(Node{}, &TreeError{Err: ErrCycle, Path: path(child)})
				return
			}
			if depth > o.MaxDepth {
				yield(Node{}, &TreeError{Err: ErrTooDeep, Path: path(child)})
				return
			}
			count++
			if count > o.MaxNodes {
				yield(Node{}, &TreeError{Err: ErrTooLarge, Path: path(child)})
				return
			}
			parent := top.job
			stack = append(stack, frame{job: child, parent: parent, depth: depth})
			switch {
			case onPathPtr != nil:
				onPathPtr[child] = true
				if child.ID != "" {
					onPathID[child.ID]++
				}
			case len(stack) > pathScan:
				onPathPtr = make(map[*Job]bool, len(stack))
				onPathID = make(map[string]int, len(stack))
				for _, f := range stack {
					onPathPtr[f.job] = true
					if f.job.ID != "" {
						onPathID[f.job.ID]++
					}
				}
			}
			if !yield(Node{Job: child, Parent: parent, Depth: depth}, nil) {
				return
			}
		}
	}
}

// pathScan is the depth up to which WalkWith checks for cycles by scanning
// the path instead of keeping maps.
const pathScan = 32

// Check walks the whole tree and returns the first *TreeError, or nil.
func Check(root *Job, o WalkOptions) error {
	for _, err := range WalkWith(root, o) {
		if err != nil {
			return err
		}
	}
	return nil
}

// Find returns the first node with the given id, or nil. It stops quietly
// on a malformed tree.
func (j *Job) Find(id string) *Job {
	for n, err := range Walk(j) {
		if err != nil {
			return nil
		}
		if n.Job.ID == id {
			return n.Job
		}
	}
	return nil
}

// TreeDone reports whether every node of the tree is done (see Job.Done).
// A malformed tree is never done.
func (j *Job) TreeDone() bool {
	if j == nil {
		return false
	}
	for n, err := range Walk(j) {
		if err != nil || !n.Job.Done() {
			return false
		}
	}
	return true
}

// Failed returns the first node of the tree whose state is a failure, or nil.
func (j *Job) Failed() *Job {
	for n, err := range Walk(j) {
		if err != nil {
			return nil
		}
		if n.Job.State.Failure() {
			return n.Job
		}
	}
	return nil
}

// Aggregate is the progress of the whole tree: the mean over its leaves,
// where a done leaf counts 100 and a leaf with no known progress counts 0.
// A tree whose nodes are all done is exactly 100.
func (j *Job) Aggregate() Progress {
	var sum float64
	var leaves int
	known := false
	for n, err := range Walk(j) {
		if err != nil {
			return Progress{}
		}
		if len(n.Job.Children) > 0 {
			continue
		}
		leaves++
		switch {
		case n.Job.Done():
			sum += 100
			known = true
		case n.Job.Progress.Known:
			sum += clampPercent(n.Job.Progress.Percent)
			known = true
		}
	}
	if leaves == 0 {
		return Progress{}
	}
	return Progress{Percent: sum / float64(leaves), Known: known}
}

func clampPercent(p float64) float64 {
	switch {
	case p != p || p < 0: // NaN or negative
		return 0
	case p > 100:
		return 100
	}
	return p
}
