package messaging

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// eventTimeout bounds the database work of one WhatsApp event: the adapter
// calls HandleEvent from the instance's event goroutine.
const eventTimeout = 15 * time.Second

// HandleEvent takes the message events of the WhatsApp adapter: receipts
// move outbound messages forward (never back), those still sending too, inbound texts are stored with
// status received and announced as message.received. Other kinds are not
// this module's; the composition root routes them to sessions. Events of
// an instance this node does not hold (Deps.Owner) are not handled.
//
// An error says the event was not stored and should come again: the
// adapter then leaves the message or receipt unacked, and WhatsApp sends
// it again (at the connection's next login). That is the answer for a
// database that cannot serve now and for an instance held elsewhere;
// other failures are logged and the event is let go, since it would fail
// the same way each time it came.
func (s *Service) HandleEvent(ev ports.WAEvent) error {
	if !s.owns(ev.Instance) {
		// A connection this node just let go of, reporting late: the
		// instance's new holder gets the event from WhatsApp instead.
		s.d.Log.Debug("WhatsApp event of an instance held elsewhere left unacked", "instance", string(ev.Instance), "kind", string(ev.Kind))
		return ports.Errorf(ports.EUnavailable, "instance %s is held by another node", ev.Instance)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	var err error
	switch {
	case ev.Kind == ports.WAReceipt && ev.Receipt != nil:
		err = s.onReceipt(ctx, ev)
	case ev.Kind == ports.WAMessage && ev.Message != nil:
		err = s.onInbound(ctx, ev)
	case ev.Kind == ports.WAPollVoteKind && ev.PollVote != nil:
		err = s.onPollVote(ctx, ev)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	s.d.Log.Error("handle WhatsApp message event", "instance", string(ev.Instance), "kind", string(ev.Kind), "err", err)
	if ports.IsCode(err, ports.EUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// rank orders the outbound statuses; a receipt only moves a message to a
// higher rank. Failed messages are left alone. A message has its WhatsApp
// id from its first claim on, so a receipt may overtake the record of its
// send (the worker is slow to write it, or died after sending): it moves
// a sending or queued message forward just the same.
var rank = map[ports.MessageStatus]int{
	ports.MsgQueued: 1, ports.MsgSending: 2, ports.MsgSent: 3, ports.MsgDelivered: 4, ports.MsgRead: 5,
}

func (s *Service) onReceipt(ctx context.Context, ev ports.WAEvent) error {
	sub := ev.Subscription
	r := ev.Receipt
	to := ports.MsgDelivered
	if r.Type == ports.ReceiptRead {
		to = ports.MsgRead
	}
	at := r.Timestamp
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	for _, waID := range r.WAMessageID {
		m, err := s.d.Stores.Messages.FindMessageByWAID(ctx, sub, ev.Instance, waID)
		if ports.IsCode(err, ports.ENotFound) {
			continue // not one of ours (sent from the phone, or inbound)
		}
		if err != nil {
			return fmt.Errorf("find message %s: %w", waID, err)
		}
		if m.Direction != ports.DirectionOutbound || !sameChat(m, r) || rank[m.Status] == 0 || rank[m.Status] >= rank[to] {
			continue
		}
		_, err = s.updateCounted(ctx, sub, m.ID, func(m *ports.Message) error {
			// Checked again under the lock: receipts may race.
			if rank[m.Status] == 0 || rank[m.Status] >= rank[to] {
				return nil
			}
			advance(m, to, at)
			m.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		if err != nil {
			return fmt.Errorf("update message %s: %w", m.ID, err)
		}
	}
	return nil
}

// advance moves m to delivered or read; a read message was delivered too,
// and a delivered one was sent, even if its send is not recorded yet.
func advance(m *ports.Message, to ports.MessageStatus, at time.Time) {
	m.Status = to
	if m.SentAt == nil {
		m.SentAt = &at
	}
	if m.DeliveredAt == nil {
		m.DeliveredAt = &at
	}
	if to == ports.MsgRead && m.ReadAt == nil {
		m.ReadAt = &at
	}
}

// onInbound stores an inbound message of any kind once (WhatsApp may
// deliver it again after a reconnect) and announces it. A kind not
// modelled is stored as unsupported, with its raw type: nothing is dropped.
func (s *Service) onInbound(ctx context.Context, ev ports.WAEvent) error {
	if ev.Message.Action != nil {
		return s.onInboundAction(ctx, ev)
	}
	in := cleanInbound(ev.Message)
	typ := inboundType(in)
	sub := ev.Subscription
	if _, err := s.d.Stores.Messages.FindMessageByWAID(ctx, sub, ev.Instance, in.WAMessageID); err == nil {
		return nil
	} else if !ports.IsCode(err, ports.ENotFound) {
		return fmt.Errorf("find message %s: %w", in.WAMessageID, err)
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, sub, ev.Instance)
	if ports.IsCode(err, ports.ENotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	now := s.d.Clock.Now()
	at := in.Timestamp
	if at.IsZero() {
		at = now
	}
	m := ports.Message{
		ID: ports.MessageID(s.d.IDs.NewID()), SubscriptionID: sub, InstanceID: ev.Instance,
		Direction: ports.DirectionInbound, Chat: in.Chat, To: inst.JID, From: in.From, ChatLID: in.ChatLID, FromLID: in.FromLID,
		Type: typ, Text: in.Text, Caption: truncate(in.Caption, MaxCaptionLen), Location: copyLocation(in.Location),
		Contacts: in.Contacts, Poll: in.Poll, RawType: in.RawType,
		Status: ports.MsgReceived, WAMessageID: in.WAMessageID, ReplyTo: in.ReplyTo, CreatedAt: at, UpdatedAt: now,
		Mentions: inboundMentions(in.Mentions), IsForwarded: in.IsForwarded,
	}
	if err := s.storeInbound(ctx, m, in.Media); err != nil {
		return fmt.Errorf("store inbound message: %w", err)
	}
	s.d.Events.Wake(ctx, sub)
	return nil
}

// storeInbound stores an inbound message, counted, with its file if it
// has one and its message.received event, in one transaction. A file the adapter could not download is
// left out: the message is still worth keeping, and its media route
// answers 404.
func (s *Service) storeInbound(ctx context.Context, m ports.Message, in *ports.WAMedia) error {
	if in == nil || len(in.Data) == 0 {
		return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
			return s.createReceived(ctx, st, m)
		})
	}
	sum := sha256.Sum256(in.Data)
	mimeType := in.MimeType
	if baseType(mimeType) == "" || len(mimeType) > 128 {
		mimeType = sniff(in.Data) // what the sender claimed is unusable
	}
	md := ports.MessageMedia{
		MessageID: m.ID, SubscriptionID: m.SubscriptionID, MimeType: mimeType, FileName: sanitiseFileName(in.FileName),
		PTT: in.PTT, GIF: in.GIF, Size: int64(len(in.Data)), SHA256: sum[:], Data: in.Data, CreatedAt: m.CreatedAt,
	}
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := s.createReceived(ctx, st, m); err != nil {
			return err
		}
		if err := st.Media.PutMedia(ctx, m.SubscriptionID, md); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		return nil
	})
}

// copyLocation copies an inbound pin, its labels cut to what we store:
// another client may send longer ones than we accept.
func copyLocation(l *ports.WALocation) *ports.WALocation {
	if l == nil {
		return nil
	}
	c := *l
	c.Name, c.Address = truncate(c.Name, MaxLocationName), truncate(c.Address, MaxLocationAddress)
	return &c
}

// cleanInbound returns a copy of in whose text every store can hold
// (ports.CleanText): a contact's message is kept whatever bytes it carries.
func cleanInbound(in *ports.WAInbound) *ports.WAInbound {
	c := *in
	for _, f := range []*string{&c.WAMessageID, &c.Chat, &c.From, &c.ChatLID, &c.FromLID, &c.PushName, &c.Text, &c.Caption, &c.ReplyTo} {
		*f = ports.CleanText(*f)
	}
	c.Contacts = cleanContacts(c.Contacts)
	c.Poll = cleanPoll(c.Poll)
	if c.Location != nil {
		loc := *c.Location
		loc.Name, loc.Address = ports.CleanText(loc.Name), ports.CleanText(loc.Address)
		c.Location = &loc
	}
	return &c
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	s = ports.CleanText(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// inboundType names the kind of an inbound message; a message without
// any content we model is unsupported.
func inboundType(in *ports.WAInbound) ports.MessageType {
	switch {
	case in.Location != nil:
		return ports.MessageLocation
	case in.Media != nil && messageType[in.Media.Kind] != "":
		return messageType[in.Media.Kind]
	case len(in.Contacts) > 0:
		return ports.MessageContact
	case in.Poll != nil:
		return ports.MessagePoll
	case in.Text != "" && in.Media == nil && in.RawType == "":
		return ports.MessageText
	}
	return ports.MessageUnsupported
}

// cleanContacts copies inbound contact cards cut to what we accept.
func cleanContacts(in []ports.ContactCard) []ports.ContactCard {
	var out []ports.ContactCard
	for i, c := range in {
		if i == MaxContactCards {
			break
		}
		card := ports.ContactCard{Name: truncate(c.Name, MaxContactName), Email: truncate(c.Email, maxContactField),
			Organization: truncate(c.Organization, maxContactField)}
		for j, ph := range c.Phones {
			if j == MaxContactPhones {
				break
			}
			card.Phones = append(card.Phones, ports.ContactPhone{Number: truncate(ph.Number, maxContactPhoneLn), Type: truncate(ph.Type, 16)})
		}
		out = append(out, card)
	}
	return out
}

// cleanPoll copies an inbound poll cut to what we accept.
func cleanPoll(p *ports.Poll) *ports.Poll {
	if p == nil {
		return nil
	}
	c := &ports.Poll{Question: truncate(p.Question, MaxPollQuestion), MultipleAnswers: p.MultipleAnswers}
	for i, o := range p.Options {
		if i == MaxPollOptions {
			break
		}
		c.Options = append(c.Options, truncate(o, MaxPollOption))
	}
	return c
}
