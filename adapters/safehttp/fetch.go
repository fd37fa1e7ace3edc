package safehttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wagate/wagate/ports"
)

// MediaFetcher downloads URL media (SPEC §6) with the guarded client:
// one GET, no redirects, the body capped. Its refusals name the field
// media.url and stay generic: telling a tenant which internal address or
// port was refused would make the guard an oracle for probing the network.
type MediaFetcher struct {
	client *http.Client
}

var _ ports.MediaFetcher = (*MediaFetcher)(nil)

// NewMediaFetcher returns a fetcher with the guard configured by o.
func NewMediaFetcher(o Options) *MediaFetcher {
	return &MediaFetcher{client: NewClient(o)}
}

// FetchMedia returns the body of a GET of url, at most max bytes.
func (f *MediaFetcher) FetchMedia(ctx context.Context, url string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, urlError("must be a valid http or https URL")
	}
	req.Header.Set("User-Agent", "wagate-media-fetcher")
	res, err := f.client.Do(req)
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return nil, urlError("is not allowed: the server does not fetch from this address")
	case ctx.Err() != nil:
		return nil, fmt.Errorf("fetch media: %w", ctx.Err())
	case err != nil:
		return nil, urlError("could not be fetched")
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return nil, urlError("answered with a redirect, which is not followed; give the final URL")
	case res.StatusCode != http.StatusOK:
		return nil, urlError(fmt.Sprintf("answered %d, want 200", res.StatusCode))
	case res.ContentLength > max:
		return nil, ports.ReasonError(ports.ETooLarge, "payload_too_large",
			fmt.Sprintf("the file at media.url is over the limit of %d bytes", max))
	}
	data, err := ReadBody(res.Body, max)
	if ports.IsCode(err, ports.ETooLarge) {
		return nil, ports.ReasonError(ports.ETooLarge, "payload_too_large",
			fmt.Sprintf("the file at media.url is over the limit of %d bytes", max))
	}
	if err != nil {
		return nil, urlError("could not be read to the end")
	}
	return data, nil
}

func urlError(msg string) error {
	return ports.InvalidFields(ports.FieldError{Field: "media.url", Message: msg})
}
