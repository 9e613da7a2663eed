package jobs

import (
	"context"
	"testing"
	"time"
)

// Near a deadline the backoff polls once more just before it, and then
// sleeps into it: it does not poll in ever shorter steps.
func TestBackoffNearTheDeadlinePollsOnceMore(t *testing.T) {
	cfg := newConfig([]Option{WithInterval(time.Second, time.Minute)})
	b := backoff{cfg: &cfg, cur: time.Minute}
	left := 10 * time.Second
	polls := 0
	for left > time.Millisecond && polls < 10 {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(left))
		d := b.next(ctx, true, nil)
		cancel()
		if d <= 0 {
			t.Fatalf("pause %v", d)
		}
		left -= d
		polls++
	}
	if polls > 3 {
		t.Fatalf("%d polls in the last 10 s before the deadline; want at most 3", polls)
	}
}
