// Package ports is wagate's vocabulary: the boundary types every layer shares,
// the error type and its codes, and the small interfaces that the core needs
// and the adapters implement. It depends only on the standard library.
package ports
