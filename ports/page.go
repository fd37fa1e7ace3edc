package ports

// DefaultPageLimit and MaxPageLimit bound list sizes (SPEC §2).
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// PageRequest asks for one page of a list. After is the opaque cursor of the
// previous page ("" for the first). Stores return items in a stable order.
type PageRequest struct {
	Limit int
	After string
}

// Page is one page of a list. Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}
