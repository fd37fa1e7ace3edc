package wasim

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds a write to a client that stopped reading, so one stuck
// client never blocks routing for the others.
const writeTimeout = 10 * time.Second

// frameConn carries whatsmeow's framing over a websocket: a 4-byte header
// once from the client, then 3-byte big-endian length prefixed frames,
// AES-GCM encrypted once the handshake is done.
type frameConn struct {
	ws     *websocket.Conn
	buf    []byte
	header bool

	wmu               sync.Mutex
	readKey, writeKey cipher.AEAD
	readCtr, writeCtr uint32
}

// readFrame returns the next raw frame (the first call also strips the
// connection header and returns it separately via hdr).
func (fc *frameConn) readFrame(ctx context.Context) (hdr, frame []byte, err error) {
	for {
		if !fc.header && len(fc.buf) >= 4 {
			hdr, fc.buf = append([]byte{}, fc.buf[:4]...), fc.buf[4:]
			fc.header = true
		}
		if fc.header && len(fc.buf) >= 3 {
			n := int(fc.buf[0])<<16 | int(fc.buf[1])<<8 | int(fc.buf[2])
			if len(fc.buf) >= 3+n {
				frame = append([]byte{}, fc.buf[3:3+n]...)
				fc.buf = fc.buf[3+n:]
				return hdr, frame, nil
			}
		}
		typ, data, err := fc.ws.Read(ctx)
		if err != nil {
			return nil, nil, err
		}
		if typ == websocket.MessageBinary {
			fc.buf = append(fc.buf, data...)
		}
	}
}

func (fc *frameConn) writeFrame(ctx context.Context, data []byte) error {
	if len(data) >= 1<<24 {
		return errors.New("frame too large")
	}
	out := make([]byte, 3+len(data))
	out[0], out[1], out[2] = byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
	copy(out[3:], data)
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return fc.ws.Write(ctx, websocket.MessageBinary, out)
}

// readEncrypted returns the next decrypted transport frame.
func (fc *frameConn) readEncrypted(ctx context.Context) ([]byte, error) {
	_, ct, err := fc.readFrame(ctx)
	if err != nil {
		return nil, err
	}
	pt, err := fc.readKey.Open(nil, iv(fc.readCtr), ct, nil)
	fc.readCtr++
	if err != nil {
		return nil, fmt.Errorf("decrypt frame: %w", err)
	}
	return pt, nil
}

// writeEncrypted encrypts and sends one frame; the lock keeps the nonce
// counter in step with the order frames reach the wire.
func (fc *frameConn) writeEncrypted(ctx context.Context, pt []byte) error {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	ct := fc.writeKey.Seal(nil, iv(fc.writeCtr), pt, nil)
	fc.writeCtr++
	return fc.writeFrame(ctx, ct)
}
