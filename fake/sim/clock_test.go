package sim_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake/sim"
)

func TestManualClockRunsTimersInOrderAtTheirInstant(t *testing.T) {
	c := sim.NewClock(time.Time{})
	assert.Equal(t, sim.Epoch, c.Now())
	var got []string
	var at []time.Duration
	rec := func(name string) func() {
		return func() { got = append(got, name); at = append(at, c.Since(sim.Epoch)) }
	}
	c.AfterFunc(3*time.Second, rec("c"))
	c.AfterFunc(time.Second, rec("a"))
	stopped := c.AfterFunc(2*time.Second, rec("never"))
	c.AfterFunc(time.Second, func() {
		rec("b")()
		// A timer scheduled from a callback that falls due inside the same
		// advance runs in it too.
		c.AfterFunc(500*time.Millisecond, rec("b+"))
	})
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())
	assert.Equal(t, 3, c.Pending())

	c.Advance(10 * time.Second)
	assert.Equal(t, []string{"a", "b", "b+", "c"}, got)
	assert.Equal(t, []time.Duration{time.Second, time.Second, 1500 * time.Millisecond, 3 * time.Second}, at)
	assert.Equal(t, 10*time.Second, c.Since(sim.Epoch))
	assert.Equal(t, 0, c.Pending())

	c.Set(sim.Epoch) // never backwards
	assert.Equal(t, 10*time.Second, c.Since(sim.Epoch))
}

func TestAutoClockJumpsOnSleep(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	c.SetAuto(true)
	fired := false
	c.AfterFunc(9*time.Minute, func() { fired = true })
	require.NoError(t, c.Sleep(context.Background(), 10*time.Minute))
	assert.True(t, fired)
	assert.Equal(t, 10*time.Minute, c.Since(sim.Epoch))
	now := <-c.After(time.Hour)
	assert.Equal(t, sim.Epoch.Add(70*time.Minute), now)
}

func TestManualSleepWaitsForAdvanceOrContext(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Sleep(ctx, time.Minute) }()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		ch := c.After(time.Minute)
		close(ready)
		<-ch
		close(done)
	}()
	<-ready
	c.Advance(time.Minute)
	<-done
}

func TestRunUntilIdle(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	n := 0
	var tick func()
	tick = func() {
		n++
		if n < 5 {
			c.AfterFunc(time.Minute, tick)
		}
	}
	c.AfterFunc(time.Minute, tick)
	assert.Equal(t, 5*time.Minute, c.RunUntilIdle(time.Hour))
	assert.Equal(t, 5, n)

	c.AfterFunc(2*time.Hour, func() { n = -1 })
	assert.Equal(t, time.Hour, c.RunUntilIdle(time.Hour))
	assert.Equal(t, 5, n)
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fired := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.AfterFunc(time.Duration(i)*time.Millisecond, func() { mu.Lock(); fired++; mu.Unlock() })
			c.Advance(time.Millisecond)
			_ = c.Now()
		}()
	}
	wg.Wait()
	c.Advance(time.Second)
	assert.Equal(t, 50, fired)
}

func TestScaledClockRunsFaster(t *testing.T) {
	c := sim.NewScaledClock(1e6)
	start := c.Now()
	fired := make(chan struct{})
	c.AfterFunc(time.Hour, func() { close(fired) }) // 3.6 ms of wall time
	<-fired
	assert.GreaterOrEqual(t, c.Since(start), time.Hour)
}

func TestSleepEndedByContextLeavesNoTimerAndDoesNotMoveTime(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Sleep(ctx, time.Minute) }()
	for c.Pending() == 0 {
		runtime.Gosched()
	}
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	assert.Equal(t, 0, c.Pending(), "a cancelled Sleep leaves its timer behind")

	// An auto clock does not jump for a Sleep whose context already ended.
	c.SetAuto(true)
	require.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	assert.Equal(t, time.Duration(0), c.Since(sim.Epoch))
	assert.Equal(t, 0, c.Pending())
}

func TestAutoClockAfterFromATimerCallback(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	c.SetAuto(true)
	got := make(chan time.Time, 1)
	c.AfterFunc(time.Second, func() {
		// A backend's timer schedules its next step with After: the
		// clock must not deadlock on its own firing loop.
		ch := c.After(time.Minute)
		go func() { got <- <-ch }()
	})
	c.Advance(time.Second)
	assert.Equal(t, sim.Epoch.Add(time.Second+time.Minute), <-got)
}

func TestAutoClockManyConcurrentAfters(t *testing.T) {
	c := sim.NewClock(sim.Epoch)
	c.SetAuto(true)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := c.Now()
			at := <-c.After(time.Duration(i%7+1) * time.Second) // never lost
			if at.Before(start.Add(time.Duration(i%7+1) * time.Second)) {
				t.Errorf("After(%ds) fired early", i%7+1)
			}
			if i%3 == 0 {
				_ = c.Sleep(context.Background(), time.Millisecond)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, c.Pending())
}

func TestSpeedPauseResumeAndAdvanceOfAScaledClock(t *testing.T) {
	c := sim.NewScaledClock(1e-9) // practically stopped, but scaled
	assert.Equal(t, 1e-9, c.Speed())
	start := c.Now()
	fired := make(chan time.Time, 1)
	c.AfterFunc(time.Hour, func() { fired <- c.Now() })
	c.Advance(2 * time.Hour) // a scaled clock jumps too
	at := <-fired
	assert.GreaterOrEqual(t, at.Sub(start), time.Hour)
	assert.GreaterOrEqual(t, c.Since(start), 2*time.Hour)

	c.Pause()
	assert.Zero(t, c.Speed())
	paused := c.Now()
	assert.Equal(t, paused, c.Now(), "a paused clock stands still")
	c.Advance(time.Minute)
	assert.Equal(t, paused.Add(time.Minute), c.Now())
	assert.True(t, c.Resume())
	assert.Equal(t, 1e-9, c.Speed())
	assert.False(t, c.Resume())

	// A manual clock set running fires its timers on the wall clock.
	m := sim.NewClock(sim.Epoch)
	done := make(chan struct{})
	m.AfterFunc(time.Hour, func() { close(done) })
	m.SetSpeed(1e6) // an hour in 3.6 ms
	<-done
	m.SetSpeed(0)
	stopped := m.Now()
	assert.Equal(t, stopped, m.Now())
	assert.GreaterOrEqual(t, stopped.Sub(sim.Epoch), time.Hour)
}

func TestScaledClockCallbackPanicGoesToTheHandlerAndTimersGoOn(t *testing.T) {
	c := sim.NewScaledClock(1e6)
	got := make(chan string, 1)
	c.SetPanicHandler(func(v any, stack []byte) { got <- fmt.Sprint(v, " ", len(stack) > 0) })
	c.AfterFunc(time.Minute, func() { panic("tick") })
	done := make(chan struct{})
	c.AfterFunc(time.Hour, func() { close(done) })
	assert.Equal(t, "tick true", <-got)
	<-done
}
