package rest

import (
	"context"
	"iter"
)

// Page is one page a PageFunc fetched: its items and the offset of the next
// page, or a negative Next when this page was the last.
type Page[T any] struct {
	Items []T
	Next  int
}

// PageFunc fetches the page that starts at offset.
type PageFunc[T any] func(ctx context.Context, offset int) (Page[T], error)

// Paginate yields every item of every page, fetching a page only when the
// loop body has consumed the previous one. An error is yielded once, last.
// A page that is empty but claims a next page ends the sequence (a server
// that would loop forever).
func Paginate[T any](ctx context.Context, start int, fetch PageFunc[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		offset := start
		for {
			page, err := fetch(ctx, offset)
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
			if page.Next < 0 || len(page.Items) == 0 || page.Next <= offset {
				return
			}
			offset = page.Next
		}
	}
}
