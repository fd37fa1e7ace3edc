package wasim

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/util/keys"
	"google.golang.org/protobuf/proto"
)

// handshakeTimeout bounds the three handshake messages.
const handshakeTimeout = 20 * time.Second

// handshake runs the server side of the noise XX handshake (mirroring
// whatsmeow's doHandshake) and returns the client's payload: registration
// data for a new device or the credentials of a stored one.
func (c *conn) handshake() (*waWa6.ClientPayload, error) {
	ctx, cancel := context.WithTimeout(c.ctx, handshakeTimeout)
	defer cancel()
	hdr, frame, err := c.fc.readFrame(ctx)
	if err != nil {
		return nil, fmt.Errorf("read client hello: %w", err)
	}
	var hello waWa6.HandshakeMessage
	if err := proto.Unmarshal(frame, &hello); err != nil {
		return nil, fmt.Errorf("parse client hello: %w", err)
	}
	cliEph := hello.GetClientHello().GetEphemeral()
	if len(cliEph) != 32 {
		return nil, fmt.Errorf("client hello: ephemeral key of %d bytes", len(cliEph))
	}
	ns, err := newNoiseState(hdr)
	if err != nil {
		return nil, err
	}
	ns.authenticate(cliEph)
	eph := keys.NewKeyPair()
	ns.authenticate(eph.Pub[:])
	if err := ns.mixDH(*eph.Priv, [32]byte(cliEph)); err != nil {
		return nil, err
	}
	static := ns.encrypt(c.s.static.Pub[:])
	if err := ns.mixDH(*c.s.static.Priv, [32]byte(cliEph)); err != nil {
		return nil, err
	}
	cert := ns.encrypt(c.s.cert)
	reply, err := proto.Marshal(&waWa6.HandshakeMessage{ServerHello: &waWa6.HandshakeMessage_ServerHello{
		Ephemeral: eph.Pub[:], Static: static, Payload: cert,
	}})
	if err != nil {
		return nil, fmt.Errorf("marshal server hello: %w", err)
	}
	if err := c.fc.writeFrame(ctx, reply); err != nil {
		return nil, fmt.Errorf("send server hello: %w", err)
	}
	return c.finishHandshake(ctx, ns, eph)
}

func (c *conn) finishHandshake(ctx context.Context, ns *noiseState, eph *keys.KeyPair) (*waWa6.ClientPayload, error) {
	_, frame, err := c.fc.readFrame(ctx)
	if err != nil {
		return nil, fmt.Errorf("read client finish: %w", err)
	}
	var fin waWa6.HandshakeMessage
	if err := proto.Unmarshal(frame, &fin); err != nil {
		return nil, fmt.Errorf("parse client finish: %w", err)
	}
	cliStatic, err := ns.decrypt(fin.GetClientFinish().GetStatic())
	if err != nil || len(cliStatic) != 32 {
		return nil, fmt.Errorf("client static key: %v", err)
	}
	c.noise = [32]byte(cliStatic)
	if err := ns.mixDH(*eph.Priv, c.noise); err != nil {
		return nil, err
	}
	raw, err := ns.decrypt(fin.GetClientFinish().GetPayload())
	if err != nil {
		return nil, fmt.Errorf("client payload: %w", err)
	}
	var payload waWa6.ClientPayload
	if err := proto.Unmarshal(raw, &payload); err != nil {
		return nil, fmt.Errorf("parse client payload: %w", err)
	}
	if c.fc.readKey, c.fc.writeKey, err = ns.split(); err != nil {
		return nil, err
	}
	return &payload, nil
}
