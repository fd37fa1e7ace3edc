package ports

// BulkID identifies a bulk send (SPEC §8).
type BulkID string
