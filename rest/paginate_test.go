package rest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

func pages(total, size int, calls *int) func(context.Context, int) (*jobs.Page[int], error) {
	return func(ctx context.Context, offset int) (*jobs.Page[int], error) {
		*calls++
		p := &jobs.Page[int]{Offset: offset, Limit: size, Total: total, More: offset+size < total}
		for i := offset; i < min(offset+size, total); i++ {
			p.Items = append(p.Items, i)
		}
		return p, nil
	}
}

func TestPaginateYieldsEveryItemLazily(t *testing.T) {
	calls := 0
	var got []int
	for v, err := range rest.Paginate(context.Background(), 0, pages(45, 20, &calls)) {
		require.NoError(t, err)
		got = append(got, v)
	}
	assert.Len(t, got, 45)
	assert.Equal(t, 44, got[44])
	assert.Equal(t, 3, calls)

	calls = 0
	for v := range rest.Paginate(context.Background(), 0, pages(45, 20, &calls)) {
		if v == 5 {
			break
		}
	}
	assert.Equal(t, 1, calls, "no page is fetched past where the loop stopped")
}

func TestPaginateStopsOnErrorAndOnAServerThatLoops(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	for _, err := range rest.Paginate(context.Background(), 0, func(ctx context.Context, off int) (*jobs.Page[int], error) {
		if off > 0 {
			return nil, boom
		}
		return &jobs.Page[int]{Items: []int{1}, Offset: off, Total: -1, More: true}, nil
	}) {
		if err != nil {
			require.ErrorIs(t, err, boom)
		}
		n++
	}
	assert.Equal(t, 2, n)

	calls := 0
	for range rest.Paginate(context.Background(), 0, func(ctx context.Context, off int) (*jobs.Page[int], error) {
		calls++
		return &jobs.Page[int]{Items: []int{1}, Offset: off - 1, Total: -1, More: true}, nil // never advances
	}) {
	}
	assert.Equal(t, 1, calls)
}
