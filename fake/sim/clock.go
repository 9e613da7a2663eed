// Package sim is the environment every backend of the fake shares: the
// scripted Clock, the Faults table, and the seeded Users.
//
// Dialect backends (fake/cloudsigma, fake/truenas, fake/freezer,
// fake/ftrack) take an *Env; package fake composes them into one server.
package sim

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Epoch is the instant a new manual Clock starts at.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is the fake's time. It runs in one of three modes:
//
//   - manual (NewClock): time moves only when the test calls Advance or Set;
//   - auto (NewClock then SetAuto(true)): as manual, and also every After
//     or Sleep call jumps time forward to its deadline, so an SDK waiting on
//     this clock (jobs.WithClock) drives a ten-minute job to its end in
//     microseconds;
//   - scaled (NewScaledClock): fake time runs at speed times wall time,
//     for examples and the standalone fake process.
//
// Clock satisfies jobs.Clock. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	speed  float64 // >0: scaled mode
	wall0  time.Time
	fake0  time.Time
	timers timerHeap
	seq    uint64
	// firing serializes timer callbacks so they run in deadline order. It
	// is released only while mu is held, so an auto After that finds it
	// taken can leave its target in want for the firing loop to reach.
	firing sync.Mutex
	want   time.Time // the furthest instant an auto After asked for
}

// NewClock returns a manual clock at start (Epoch if start is zero).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch
	}
	return &Clock{now: start}
}

// NewScaledClock returns a clock that runs speed times faster than the wall
// clock, starting now.
func NewScaledClock(speed float64) *Clock {
	if speed <= 0 {
		speed = 1
	}
	now := time.Now()
	return &Clock{speed: speed, wall0: now, fake0: now, now: now}
}

// SetAuto turns auto-advance on or off (manual clocks only).
func (c *Clock) SetAuto(on bool) {
	c.mu.Lock()
	c.auto = on
	c.mu.Unlock()
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.speed > 0 {
		return c.fake0.Add(time.Duration(float64(time.Since(c.wall0)) * c.speed))
	}
	return c.now
}

// Since is Now().Sub(t).
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Timer is a pending callback on the clock.
type Timer struct {
	c     *Clock
	at    time.Time
	seq   uint64
	fn    func()
	index int // in the heap, -1 when not pending
	real  *time.Timer
}

// Stop cancels the timer; it reports whether it was still pending.
func (t *Timer) Stop() bool {
	if t.real != nil {
		return t.real.Stop()
	}
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.index)
	return true
}

// AfterFunc calls fn once fake time has moved d past now. In manual and
// auto modes fn runs on the goroutine that advances the clock, after the
// clock's lock is released, in deadline order; in scaled mode on a timer
// goroutine. A non-positive d still waits for the next advance (manual) or
// runs at once (scaled).
func (c *Clock) AfterFunc(d time.Duration, fn func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Timer{c: c, fn: fn, index: -1}
	if c.speed > 0 {
		t.real = time.AfterFunc(time.Duration(float64(d)/c.speed), fn)
		return t
	}
	c.seq++
	t.at, t.seq = c.now.Add(d), c.seq
	heap.Push(&c.timers, t)
	return t
}

// After returns a channel that receives the fake time once d has passed.
// In auto mode the clock jumps forward by d at once; called from a timer
// callback (or while another goroutine runs timers) it leaves the jump to
// the loop running them, so it never deadlocks, but the callback must not
// wait for the channel itself.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.AfterFunc(d, func() { ch <- c.Now() })
	c.autoAdvance(d)
	return ch
}

// autoAdvance jumps an auto clock d forward, or leaves the jump to the
// goroutine that is running timers now.
func (c *Clock) autoAdvance(d time.Duration) {
	c.mu.Lock()
	if !c.auto || c.speed > 0 {
		c.mu.Unlock()
		return
	}
	target := c.now.Add(max(d, 0))
	if target.After(c.want) {
		c.want = target
	}
	if !c.firing.TryLock() {
		c.mu.Unlock() // the firing loop reads want before it lets go
		return
	}
	c.mu.Unlock()
	c.run(target)
}

// Sleep waits until d of fake time has passed or ctx ends. A Sleep whose
// ctx has already ended returns at once without moving an auto clock, and
// one that ctx ends takes its timer off the clock.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ch := make(chan struct{})
	t := c.AfterFunc(d, func() { close(ch) })
	c.autoAdvance(d)
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// Advance moves a manual clock forward by d, running every timer that falls
// due on the way, each at its own instant. It is a no-op in scaled mode.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.advanceTo(target)
}

// Set moves a manual clock to t (never backwards), running due timers.
func (c *Clock) Set(t time.Time) { c.advanceTo(t) }

func (c *Clock) advanceTo(target time.Time) {
	c.firing.Lock()
	c.run(target)
}

// run fires the timers due by target (or by want, if an auto After asked
// for more meanwhile), in deadline order, then releases firing, which the
// caller holds.
func (c *Clock) run(target time.Time) {
	for {
		c.mu.Lock()
		if c.want.After(target) {
			target = c.want
		}
		if c.speed > 0 || len(c.timers) == 0 || c.timers[0].at.After(target) {
			if c.speed == 0 && target.After(c.now) {
				c.now = target
			}
			c.firing.Unlock()
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*Timer)
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.mu.Unlock()
		c.fire(t)
	}
}

// fire runs t's callback; a callback that panics releases the clock.
func (c *Clock) fire(t *Timer) {
	ok := false
	defer func() {
		if !ok {
			c.firing.Unlock()
		}
	}()
	t.fn()
	ok = true
}

// Pending returns how many timers wait on a manual clock.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// RunUntilIdle advances a manual clock timer by timer until none is left or
// limit fake time has passed; it returns the time advanced.
func (c *Clock) RunUntilIdle(limit time.Duration) time.Duration {
	start := c.Now()
	end := start.Add(limit)
	for {
		c.mu.Lock()
		if len(c.timers) == 0 || c.speed > 0 {
			c.mu.Unlock()
			break
		}
		next := c.timers[0].at
		c.mu.Unlock()
		if next.After(end) {
			c.advanceTo(end)
			break
		}
		c.advanceTo(next)
	}
	return c.Now().Sub(start)
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)   { t := x.(*Timer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
