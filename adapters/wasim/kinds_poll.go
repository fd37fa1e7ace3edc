package wasim

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mau.fi/util/random"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"
)

// maxPolls bounds the polls a contact remembers to vote on.
const maxPolls = 256

// receivedPoll is what a contact keeps of a poll it received so that it
// can vote: the message secret the votes are encrypted with, who sent the
// poll and its options.
type receivedPoll struct {
	secret  []byte
	sender  types.JID // non-AD
	options []string
}

// pollBook is a contact's received polls by WhatsApp id, oldest evicted.
type pollBook struct {
	mu    sync.Mutex
	polls map[string]receivedPoll
	order []string
}

func (b *pollBook) put(id string, p receivedPoll) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.polls == nil {
		b.polls = map[string]receivedPoll{}
	}
	if len(b.order) >= maxPolls {
		delete(b.polls, b.order[0])
		b.order = b.order[1:]
	}
	b.polls[id] = p
	b.order = append(b.order, id)
}

func (b *pollBook) get(id string) (receivedPoll, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.polls[id]
	return p, ok
}

// rememberPoll keeps a received poll's secret; a poll without one cannot
// be voted on, as on a real phone.
func (c *Contact) rememberPoll(id string, from types.JID, m *waE2E.Message) {
	p := m.GetPollCreationMessage()
	secret := m.GetMessageContextInfo().GetMessageSecret()
	if p == nil || len(secret) == 0 {
		return
	}
	rp := receivedPoll{secret: secret, sender: from.ToNonAD()}
	for _, o := range p.GetOptions() {
		rp.options = append(rp.options, o.GetOptionName())
	}
	c.polls.put(id, rp)
}

// Vote makes the contact vote on a poll it received from `to`: the
// selected options (by name; none withdraws the vote) are hashed and
// encrypted with the poll's secret as whatsmeow's EncryptPollVote does, so
// that only the poll's sender can read them.
func (c *Contact) Vote(ctx context.Context, to, pollID string, selected []string) error {
	p, ok := c.polls.get(pollID)
	if !ok || p.sender.User != digits(to) {
		return fmt.Errorf("vote: %s received no poll %s from %s", c.phone, pollID, digits(to))
	}
	vote := &waE2E.PollVoteMessage{}
	for _, name := range selected {
		if !slices.Contains(p.options, name) {
			return fmt.Errorf("vote: the poll has no option %q", name)
		}
		sum := sha256.Sum256([]byte(name))
		vote.SelectedOptions = append(vote.SelectedOptions, sum[:])
	}
	plaintext, err := proto.Marshal(vote)
	if err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	voter := c.jid.ToNonAD().String()
	info := []byte(pollID + p.sender.String() + voter + "Poll Vote")
	key, iv := hkdfutil.SHA256(p.secret, nil, info, 32), random.Bytes(12)
	ct, err := gcmutil.Encrypt(key, iv, plaintext, []byte(pollID+"\x00"+voter))
	if err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	_, err = c.Send(ctx, to, &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{
		PollCreationMessageKey: &waCommon.MessageKey{RemoteJID: proto.String(p.sender.String()), FromMe: proto.Bool(false), ID: proto.String(pollID)},
		Vote:                   &waE2E.PollEncValue{EncPayload: ct, EncIV: iv},
		SenderTimestampMS:      proto.Int64(time.Now().UnixMilli()),
	}})
	return err
}

// ContactVote makes the contact `from` vote on the poll pollID it received
// from `to`.
func (s *Server) ContactVote(ctx context.Context, from, to, pollID string, selected []string) error {
	return s.Contact(from).Vote(ctx, to, pollID, selected)
}
