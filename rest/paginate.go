package rest

import (
	"context"
	"iter"

	"github.com/longrun/longrun/jobs"
)

// Paginate is the All of every dialect: it yields every item of every
// page list returns, calling list with start and then with each page's
// NextOffset, and fetching a page only when the loop body has consumed the
// previous one. An error is yielded once, last. It stops after a page
// whose More is false, an empty page, or a page that does not move the
// offset forward (a server that would loop forever).
func Paginate[T any](ctx context.Context, start int, list func(ctx context.Context, offset int) (*jobs.Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		offset := start
		for {
			page, err := list(ctx, offset)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
			next := page.NextOffset()
			if !page.More || len(page.Items) == 0 || next <= offset {
				return
			}
			offset = next
		}
	}
}
