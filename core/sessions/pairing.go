package sessions

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// QRCode is an instance's current QR code.
type QRCode struct {
	Code      string
	Attempt   int
	ExpiresAt time.Time
}

// QR returns the current QR code. EConflict (not_awaiting_qr) unless the
// instance is in status qr with a live code.
func (s *Service) QR(ctx context.Context, p ports.Principal, id ports.InstanceID) (QRCode, error) {
	if err := p.RequireUser(); err != nil {
		return QRCode{}, err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return QRCode{}, fmt.Errorf("get instance: %w", err)
	}
	if inst.Status != ports.StatusQR {
		return QRCode{}, errNotAwaitingQR()
	}
	qr, ok, err := s.d.QRCodes.GetQR(ctx, id)
	if err != nil {
		return QRCode{}, fmt.Errorf("get QR code: %w", err)
	}
	if !ok || !s.d.Clock.Now().Before(qr.ExpiresAt) {
		return QRCode{}, errNotAwaitingQR()
	}
	return QRCode{Code: qr.Code, Attempt: qr.Attempt, ExpiresAt: qr.ExpiresAt}, nil
}

// PairCode asks for a code to link by phone number. EInvalid for a bad
// phone number; EConflict (not_awaiting_qr) unless the instance is pairing;
// ERateLimited past the instance's or the subscription's allowance (each
// code sends a linking prompt to someone's phone). The QR codes stop once a
// code is handed out.
func (s *Service) PairCode(ctx context.Context, p ports.Principal, id ports.InstanceID, phone string) (string, error) {
	if err := p.RequireUser(); err != nil {
		return "", err
	}
	digits, ok := phoneDigits(phone)
	if !ok {
		return "", ports.InvalidFields(ports.FieldError{Field: "phoneNumber", Message: phoneRule})
	}
	wa, err := s.whatsApp()
	if err != nil {
		return "", err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return "", fmt.Errorf("get instance: %w", err)
	}
	if inst.Status != ports.StatusQR {
		return "", errNotAwaitingQR()
	}
	if err := s.takePairCode(ctx, inst); err != nil {
		return "", err
	}
	code, err := wa.PairCode(ctx, id, digits)
	if err != nil {
		return "", fmt.Errorf("pair code for %s: %w", id, err)
	}
	s.forgetQR(ctx, id)
	return code, nil
}

// holdsQR reports whether a QR code of id is kept for GET /qr.
func (s *Service) holdsQR(ctx context.Context, id ports.InstanceID) bool {
	_, ok, err := s.d.QRCodes.GetQR(ctx, id)
	if err != nil {
		s.d.Log.Error("read the QR code", "instance", string(id), "err", err)
	}
	return ok
}

// forgetQR drops id's QR code on every node. A failure is logged: the
// code expires on its own within a minute, and GET /qr also checks the
// status.
func (s *Service) forgetQR(ctx context.Context, id ports.InstanceID) {
	if err := s.d.QRCodes.DeleteQR(context.WithoutCancel(ctx), id); err != nil {
		s.d.Log.Error("forget the QR code", "instance", string(id), "err", err)
	}
}

func errNotAwaitingQR() error {
	return ports.ReasonError(ports.EConflict, "not_awaiting_qr", "the instance is not waiting for a QR code scan")
}
