package rest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/rest"
)

func pages(total, size int, calls *int) rest.PageFunc[int] {
	return func(ctx context.Context, offset int) (rest.Page[int], error) {
		*calls++
		var p rest.Page[int]
		for i := offset; i < min(offset+size, total); i++ {
			p.Items = append(p.Items, i)
		}
		p.Next = offset + size
		if p.Next >= total {
			p.Next = -1
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
	for _, err := range rest.Paginate(context.Background(), 0, func(ctx context.Context, off int) (rest.Page[int], error) {
		if off > 0 {
			return rest.Page[int]{}, boom
		}
		return rest.Page[int]{Items: []int{1}, Next: 1}, nil
	}) {
		if err != nil {
			require.ErrorIs(t, err, boom)
		}
		n++
	}
	assert.Equal(t, 2, n)

	calls := 0
	for range rest.Paginate(context.Background(), 0, func(ctx context.Context, off int) (rest.Page[int], error) {
		calls++
		return rest.Page[int]{Items: []int{1}, Next: off}, nil // never advances
	}) {
	}
	assert.Equal(t, 1, calls)
}
