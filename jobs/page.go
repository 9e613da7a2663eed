package jobs

// Page is one page of a List call: the items and the paging facts the
// service gave with them. Every dialect's List returns a *Page and its All
// iterates every page, so paging reads the same everywhere.
type Page[T any] struct {
	// Items are this page's entries, in the service's order.
	Items []T
	// Offset is the position of Items[0] in the whole listing.
	Offset int
	// Limit is the page size that was asked for (0: the service's default).
	Limit int
	// Total is the size of the whole listing when the service tells it
	// (a total count in the answer), or -1 when it does not.
	Total int
	// More reports whether another page may follow.
	More bool
}

// NextOffset is the Offset of the page after this one.
func (p *Page[T]) NextOffset() int { return p.Offset + len(p.Items) }
