package ports

import "time"

// The message kinds of SPEC §6a beyond text, image, document, audio and
// location.
const (
	MessageVideo   MessageType = "video"
	MessageSticker MessageType = "sticker"
	MessageContact MessageType = "contact"
	MessagePoll    MessageType = "poll"
	// MessageUnsupported is an inbound kind wagate does not model; the
	// message's RawType names WhatsApp's field, so nothing is dropped.
	MessageUnsupported MessageType = "unsupported"
)

// The media kinds of video and sticker messages.
const (
	MediaVideo   WAMediaKind = "video"
	MediaSticker WAMediaKind = "sticker"
)

// ContactCard is one contact shared in a contact message (a vCard).
type ContactCard struct {
	Name         string
	Phones       []ContactPhone
	Email        string
	Organization string
}

// ContactPhone is one number of a shared contact; Type is a label such as
// CELL or WORK (may be empty).
type ContactPhone struct {
	Number, Type string
}

// Poll is a poll message: its question, options (unique), whether several
// may be chosen, and the latest vote of each voter.
type Poll struct {
	Question        string
	Options         []string
	MultipleAnswers bool
	Votes           []PollVote
}

// PollVote is one voter's current choice; an empty Selected withdraws it.
type PollVote struct {
	Voter    string // JID
	Selected []string
	At       time.Time
}

// WAPollVote is kind of WAEvent: a contact voted on a poll. Selected holds
// the SHA-256 hashes of the chosen options' names, as WhatsApp carries
// them; only the poll's owner, who knows the options, can name them.
type WAPollVote struct {
	Chat, From string // JIDs
	PollWAID   string // WhatsApp id of the poll message
	Selected   [][]byte
	Timestamp  time.Time
}

// WAPollVoteKind is the WAEvent kind of a poll vote; see PollVote.
const WAPollVoteKind WAEventKind = "poll_vote"

// EventMessagePollVote is a contact's vote on a poll (SPEC §10).
const EventMessagePollVote EventType = "message.poll_vote"

// PollVoteData is the data of message.poll_vote.
type PollVoteData struct {
	MessageID MessageID
	From      string
	Selected  []string
}
