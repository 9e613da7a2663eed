// Package sim is the environment every backend of the fake shares: the
// scripted Clock, the Faults table, and the seeded Users.
//
// Dialect backends (fake/cloudsigma, fake/truenas, fake/freezer,
// fake/ftrack) take an *Env; package fake composes them into one server.
package sim

import (
	"container/heap"
	"context"
	"runtime"
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
//   - scaled (NewScaledClock, or SetSpeed on any clock): fake time runs at
//     speed times wall time, for examples and the standalone fake process.
//
// Advance, Set and RunUntilIdle work in every mode (a scaled clock jumps
// ahead and keeps running from there); SetSpeed switches between scaled and
// manual at the current instant, and Pause and Resume are SetSpeed(0) and a
// return to the speed before it. Every timer, whatever the mode, waits in one
// heap and fires in deadline order on one goroutine at a time.
//
// Clock satisfies jobs.Clock. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time // manual: the time; scaled: the fake time at wall0
	auto   bool
	speed  float64 // >0: scaled mode
	paused float64 // the speed Pause stopped, for Resume
	wall0  time.Time
	timers timerHeap
	seq    uint64
	waker  *time.Timer // scaled mode: fires the earliest timer on time
	// firing serializes timer callbacks so they run in deadline order. It
	// is released only while mu is held, so an auto After that finds it
	// taken can leave its target in want for the firing loop to reach.
	firing  sync.Mutex
	want    time.Time // the furthest instant an auto After asked for
	onPanic func(v any, stack []byte)
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
	return &Clock{speed: speed, wall0: now, now: now}
}

// SetAuto turns auto-advance on or off (it applies while the clock is not
// scaled).
func (c *Clock) SetAuto(on bool) {
	c.mu.Lock()
	c.auto = on
	c.mu.Unlock()
}

// Auto reports whether auto-advance is on.
func (c *Clock) Auto() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auto
}

// Speed returns how many fake seconds pass per wall second; 0 means the
// clock is manual (or paused) and moves only when advanced.
func (c *Clock) Speed() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.speed
}

// SetSpeed makes fake time run speed times faster than the wall clock from
// now on, starting at the current fake instant; a speed of 0 (or less)
// stops it, leaving a manual clock. Pending timers keep their fake
// deadlines.
func (c *Clock) SetSpeed(speed float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setSpeedLocked(speed)
}

func (c *Clock) setSpeedLocked(speed float64) {
	if speed < 0 || speed != speed {
		speed = 0
	}
	c.now = c.nowLocked()
	c.wall0 = time.Now()
	c.speed = speed
	c.armLocked()
}

// Pause stops a running clock where it is (SetSpeed(0)), remembering its
// speed for Resume. Pausing a manual clock does nothing.
func (c *Clock) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.speed > 0 {
		c.paused = c.speed
		c.setSpeedLocked(0)
	}
}

// Resume restarts a clock Pause stopped at its former speed; it reports
// whether there was one to restart.
func (c *Clock) Resume() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.speed > 0 || c.paused <= 0 {
		return false
	}
	c.setSpeedLocked(c.paused)
	c.paused = 0
	return true
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.speed > 0 {
		return c.now.Add(time.Duration(float64(time.Since(c.wall0)) * c.speed))
	}
	return c.now
}

// moveLocked sets the fake time to t if t is later than it.
func (c *Clock) moveLocked(t time.Time) {
	if t.After(c.nowLocked()) {
		c.now = t
		if c.speed > 0 {
			c.wall0 = time.Now()
		}
	}
}

// armLocked sets the wall-clock waker of a scaled clock for its earliest
// timer, or stops it.
func (c *Clock) armLocked() {
	if c.speed <= 0 || len(c.timers) == 0 {
		if c.waker != nil {
			c.waker.Stop()
		}
		return
	}
	d := time.Duration(float64(c.timers[0].at.Sub(c.nowLocked())) / c.speed)
	d = max(d, 0)
	if c.waker == nil {
		c.waker = time.AfterFunc(d, c.wake)
		return
	}
	c.waker.Reset(d)
}

// SetPanicHandler sets what happens when a timer callback panics on a
// scaled clock's own goroutine: fn gets the value and the stack, and the
// clock goes on with its other timers. Without a handler the panic ends
// the process, as a panic in a time.AfterFunc would. (In manual and auto
// modes a callback's panic reaches the goroutine that moved the clock.)
func (c *Clock) SetPanicHandler(fn func(v any, stack []byte)) {
	c.mu.Lock()
	c.onPanic = fn
	c.mu.Unlock()
}

// wake fires the timers a scaled clock has reached.
func (c *Clock) wake() {
	c.mu.Lock()
	onPanic := c.onPanic
	c.mu.Unlock()
	if onPanic != nil {
		defer func() {
			if v := recover(); v != nil {
				buf := make([]byte, 64<<10)
				onPanic(v, buf[:runtime.Stack(buf, false)])
				c.mu.Lock()
				c.armLocked()
				c.mu.Unlock()
			}
		}()
	}
	c.firing.Lock()
	c.mu.Lock()
	target := c.nowLocked()
	c.mu.Unlock()
	c.run(target)
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
}

// Stop cancels the timer; it reports whether it was still pending.
func (t *Timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.index)
	return true
}

// AfterFunc calls fn once fake time has moved d past now. fn runs after
// the clock's lock is released, in deadline order, one callback at a time:
// in manual and auto modes on the goroutine that advances the clock, in
// scaled mode on a wall-clock timer's goroutine. A non-positive d still
// waits for the next advance (manual) or runs at once (scaled).
func (c *Clock) AfterFunc(d time.Duration, fn func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &Timer{c: c, fn: fn, index: -1, at: c.nowLocked().Add(d), seq: c.seq}
	heap.Push(&c.timers, t)
	if c.speed > 0 && t.index == 0 {
		c.armLocked()
	}
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

// Advance moves the clock forward by d, running every timer that falls due
// on the way, each at its own instant. A scaled clock jumps and keeps
// running from the new instant.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	c.firing.Lock()
	c.mu.Lock()
	target := c.nowLocked().Add(d)
	c.mu.Unlock()
	c.run(target)
}

// Set moves the clock to t (never backwards), running due timers.
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
		if c.speed <= 0 && c.want.After(target) {
			target = c.want
		}
		if len(c.timers) == 0 || c.timers[0].at.After(target) {
			c.moveLocked(target)
			c.armLocked()
			c.firing.Unlock()
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*Timer)
		c.moveLocked(t.at)
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

// Pending returns how many timers wait on the clock.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns the deadline of the earliest pending timer.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].at, true
}

// RunUntilIdle advances the clock timer by timer until none is left or
// limit fake time has passed; it returns the time advanced.
func (c *Clock) RunUntilIdle(limit time.Duration) time.Duration {
	start := c.Now()
	end := start.Add(limit)
	for {
		next, ok := c.Next()
		if !ok {
			break
		}
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
