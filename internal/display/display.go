// Package display renders a job tree's progress for people and scripts: a
// live multi-bar view (one bar per job and sub-job, redrawn in place) on a
// terminal, plain timestamped lines when the output is piped, or one JSON
// object per change (NDJSON). The examples and the longrun command share
// it; feed it the snapshots that jobs.WithOnProgress delivers.
package display

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/longrun/longrun/jobs"
)

// Mode chooses how a Display renders.
type Mode int

const (
	// Auto draws bars when the output is a terminal and lines otherwise.
	Auto Mode = iota
	// Bars redraws one bar per node in place (needs a terminal).
	Bars
	// Lines prints a timestamped line whenever a node changes; no control
	// characters, so it suits logs and pipes.
	Lines
	// JSON prints one JSON object per change and the final tree.
	JSON
)

// Options configure a Display.
type Options struct {
	// Out receives the rendering (os.Stdout when nil).
	Out io.Writer
	// Mode is how to render (Auto when zero).
	Mode Mode
	// Label names a node for people (its operation and a short id when
	// nil).
	Label func(*jobs.Job) string
	// Now stamps lines and events (time.Now when nil).
	Now func() time.Time
}

// Event is one JSON line: a node whose state or progress changed, or, with
// Final set, the whole tree at the end.
type Event struct {
	Time        time.Time  `json:"time"`
	ID          string     `json:"id,omitempty"`
	Parent      string     `json:"parent,omitempty"`
	Depth       int        `json:"depth"`
	Label       string     `json:"label,omitempty"`
	State       jobs.State `json:"state,omitempty"`
	RawState    string     `json:"raw_state,omitempty"`
	Percent     float64    `json:"percent"`
	Description string     `json:"description,omitempty"`
	Done        bool       `json:"done"`
	Final       *jobs.Job  `json:"final,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// Display renders successive snapshots of one or more job trees. Its
// methods are safe for concurrent use.
type Display struct {
	opts Options
	mode Mode

	mu    sync.Mutex
	seen  map[string]Event // last rendered state per node
	order []string
	pr    *mpb.Progress
	bars  map[string]*mpb.Bar
	// status is each bar's text after the percentage.
	status map[string]*atomic.Pointer[string]
}

// New returns a Display.
func New(opts Options) *Display {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Label == nil {
		opts.Label = DefaultLabel
	}
	mode := opts.Mode
	if mode == Auto {
		mode = Lines
		if IsTerminal(opts.Out) {
			mode = Bars
		}
	}
	return &Display{opts: opts, mode: mode, seen: map[string]Event{}, bars: map[string]*mpb.Bar{},
		status: map[string]*atomic.Pointer[string]{}}
}

// Mode is the mode in use (Auto resolved).
func (d *Display) Mode() Mode { return d.mode }

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// DefaultLabel is the operation and the first eight characters of the id.
func DefaultLabel(j *jobs.Job) string {
	id := j.ID
	if len(id) > 8 {
		id = id[:8]
	}
	if j.Operation == "" {
		return id
	}
	return j.Operation + " " + id
}

// Update renders what changed in root since the last call: give it to
// jobs.WithOnProgress.
func (d *Display) Update(root *jobs.Job) {
	if root == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Now()
	for n, err := range jobs.Walk(root) {
		if err != nil {
			break // a malformed tree renders as far as it is sound
		}
		ev := d.event(n, now)
		old, ok := d.seen[ev.ID]
		if ok && old.State == ev.State && old.Percent == ev.Percent && old.Description == ev.Description && old.Done == ev.Done {
			continue
		}
		if !ok {
			d.order = append(d.order, ev.ID)
		}
		d.seen[ev.ID] = ev
		d.render(ev)
	}
}

// Finish renders the end: the final tree (as returned by Wait, possibly
// nil) and the error that ended the wait, if any. Bars are completed or
// aborted and the terminal is left clean.
func (d *Display) Finish(root *jobs.Job, err error) {
	if root != nil {
		d.Update(root)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.mode {
	case Bars:
		if d.pr != nil {
			for id, b := range d.bars {
				if !d.seen[id].Done {
					b.Abort(false)
				}
			}
			d.pr.Wait()
			d.pr = nil
		}
		if err != nil {
			fmt.Fprintln(d.opts.Out, "error:", err)
		}
	case Lines:
		if err != nil {
			fmt.Fprintf(d.opts.Out, "%s error: %v\n", d.opts.Now().UTC().Format(time.RFC3339), err)
		}
	case JSON:
		ev := Event{Time: d.opts.Now().UTC(), Final: root, Depth: 0}
		if err != nil {
			ev.Error = err.Error()
		}
		_ = json.NewEncoder(d.opts.Out).Encode(ev)
	}
}

func (d *Display) event(n jobs.Node, now time.Time) Event {
	j := n.Job
	ev := Event{Time: now.UTC(), ID: j.ID, Depth: n.Depth, Label: d.opts.Label(j), State: j.State,
		RawState: j.RawState, Percent: j.Progress.Percent, Description: j.Progress.Description, Done: j.Done()}
	if n.Parent != nil {
		ev.Parent = n.Parent.ID
	}
	if len(j.Children) > 0 {
		ev.Percent = j.Aggregate().Percent
	}
	if ev.Done && !j.State.Failure() {
		ev.Percent = 100
	}
	return ev
}

func (d *Display) render(ev Event) {
	switch d.mode {
	case JSON:
		_ = json.NewEncoder(d.opts.Out).Encode(ev)
	case Lines:
		desc := ""
		if ev.Description != "" {
			desc = " " + ev.Description
		}
		fmt.Fprintf(d.opts.Out, "%s %s%s %s %3.0f%%%s\n", ev.Time.Format(time.RFC3339),
			strings.Repeat("  ", ev.Depth), ev.Label, stateWord(ev), ev.Percent, sanitize(desc))
	case Bars:
		d.bar(ev)
	}
}

func (d *Display) bar(ev Event) {
	if d.pr == nil {
		d.pr = mpb.New(mpb.WithOutput(d.opts.Out), mpb.WithWidth(32), mpb.WithRefreshRate(120*time.Millisecond), mpb.WithAutoRefresh())
	}
	b, ok := d.bars[ev.ID]
	if !ok {
		name := strings.Repeat("  ", ev.Depth) + ev.Label
		status := new(atomic.Pointer[string]) // read on mpb's goroutine, never under d.mu
		d.status[ev.ID] = status
		b = d.pr.New(100, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Any(func(decor.Statistics) string {
				if p := status.Load(); p != nil {
					return *p
				}
				return ""
			})))
		d.bars[ev.ID] = b
	}
	text := " " + stateWord(ev) + sanitize(" "+ev.Description)
	d.status[ev.ID].Store(&text)
	b.SetCurrent(int64(ev.Percent))
	if ev.Done {
		if ev.State.Failure() {
			b.Abort(false)
		} else {
			b.SetTotal(-1, true)
		}
	}
}

func stateWord(ev Event) string {
	if ev.RawState != "" {
		return ev.RawState
	}
	return string(ev.State)
}

// sanitize drops control characters a server may have put in a
// description, so lines stay lines and a terminal is never driven by a
// job's text.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
