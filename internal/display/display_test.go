package display_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/jobs"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func tree(p1, p2 float64, s2 jobs.State) *jobs.Job {
	return &jobs.Job{ID: "root-1234567890", Operation: "clone", State: jobs.StateRunning, Progress: jobs.Progress{Known: true},
		Children: []*jobs.Job{
			{ID: "a", Operation: "drive_clone", State: jobs.StateRunning, Progress: jobs.Progress{Percent: p1, Known: true}},
			{ID: "b", Operation: "drive_clone", State: s2, Progress: jobs.Progress{Percent: p2, Known: true, Description: "copy\x1b[2Jing"}},
		}}
}

func TestLinesOnlyOnChangeAndNoControlCharacters(t *testing.T) {
	var out bytes.Buffer
	d := display.New(display.Options{Out: &out, Now: func() time.Time { return t0 }})
	assert.Equal(t, display.Lines, d.Mode(), "a buffer is not a terminal")
	d.Update(tree(10, 20, jobs.StateRunning))
	first := strings.Count(out.String(), "\n")
	assert.Equal(t, 3, first)
	d.Update(tree(10, 20, jobs.StateRunning)) // nothing changed
	assert.Equal(t, first, strings.Count(out.String(), "\n"))
	d.Update(tree(50, 20, jobs.StateRunning)) // a and the root's aggregate changed
	assert.Equal(t, first+2, strings.Count(out.String(), "\n"))
	d.Finish(nil, errors.New("boom"))
	s := out.String()
	assert.Contains(t, s, "2026-12-01T12:00:00Z   drive_clone a running  50%")
	assert.Contains(t, s, "error: boom")
	for _, r := range s {
		if r < 0x20 && r != '\n' {
			t.Fatalf("control character %q in piped output:\n%s", r, s)
		}
	}
}

func TestJSONEventsAndFinalTree(t *testing.T) {
	var out bytes.Buffer
	d := display.New(display.Options{Out: &out, Mode: display.JSON, Now: func() time.Time { return t0 }})
	d.Update(tree(10, 20, jobs.StateRunning))
	final := tree(100, 100, jobs.StateFailed)
	d.Finish(final, nil)
	var events []display.Event
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ev display.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
		events = append(events, ev)
	}
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	require.NotNil(t, last.Final)
	assert.Equal(t, "root-1234567890", last.Final.ID)
	var sawFailed bool
	for _, ev := range events {
		if ev.ID == "b" && ev.State == jobs.StateFailed {
			sawFailed = true
			assert.True(t, ev.Done)
			assert.Equal(t, "root-1234567890", ev.Parent)
			assert.Equal(t, 1, ev.Depth)
		}
	}
	assert.True(t, sawFailed)
}

func TestBarsFinishReturns(t *testing.T) {
	var out bytes.Buffer
	d := display.New(display.Options{Out: &out, Mode: display.Bars})
	d.Update(tree(10, 20, jobs.StateRunning))
	d.Update(tree(60, 100, jobs.StateSucceeded))
	d.Finish(tree(100, 100, jobs.StateFailed), nil) // must not hang on bars left open
	assert.Contains(t, out.String(), "drive_clone")
}
