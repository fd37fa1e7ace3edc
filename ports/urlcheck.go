package ports

import "context"

// URLChecker validates a URL that a tenant saves and the server will later
// connect to (a webhook endpoint, an instance's proxy) against the SSRF
// rules: EInvalid with a message that reads as a field's ("must not point at
// a private, loopback or reserved address"), the caller naming the field;
// EUnavailable when DNS does not answer. The composition root passes the
// HTTP client adapter's check: the core does not know how addresses are
// judged.
type URLChecker func(ctx context.Context, url string) error

// CheckField runs the check on the value of field: an EInvalid becomes that
// field's error (422 validation_failed at the edge), anything else is
// returned as is. A nil checker accepts every URL.
func (c URLChecker) CheckField(ctx context.Context, field, url string) error {
	if c == nil {
		return nil
	}
	err := c(ctx, url)
	if e := AsError(err); e != nil && e.Code == EInvalid {
		return InvalidFields(FieldError{Field: field, Message: e.Message})
	}
	return err
}
