package messaging

import (
	"bytes"
	"context"

	"github.com/wagate/wagate/ports"
)

// mimeMP4 is the type of video messages (SPEC §6a: MP4, H.264/AAC).
const mimeMP4 = "video/mp4"

// SendVideo accepts an MP4 video with an optional caption; GIF makes it
// play looped. The errors of SendImage.
func (s *Service) SendVideo(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendMediaCmd) (ports.Message, error) {
	return s.sendMedia(ctx, p, inst, ports.MediaVideo, cmd)
}

// SendSticker accepts a WebP image, static or animated, without caption;
// the errors of SendImage.
func (s *Service) SendSticker(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendMediaCmd) (ports.Message, error) {
	return s.sendMedia(ctx, p, inst, ports.MediaSticker, cmd)
}

// sniffFor sniffs data for a send of kind. An ISO media file ("ftyp")
// carries the same brands (isom, mp42) whether it holds video or only
// audio, so the sniffer cannot tell an MP4 from an M4A: what the client
// sends it as decides, and the other checks still hold.
func sniffFor(kind ports.WAMediaKind, data []byte) string {
	if kind == ports.MediaVideo && isISOMedia(data) {
		return mimeMP4
	}
	return sniff(data)
}

func isISOMedia(data []byte) bool {
	return len(data) >= 12 && bytes.Equal(data[4:8], []byte("ftyp"))
}
