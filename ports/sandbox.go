package ports

import "time"

// PhoneMessage is a message as a simulated phone of sandbox mode received
// and decrypted it (SPEC §15a): what `GET /sandbox/phones/{phone}/messages`
// shows, so that every kind can be checked at the far end over HTTP. From
// and Chat are JIDs without a device. Fields are added as the simulator
// learns more kinds; each is empty when the message does not carry it.
type PhoneMessage struct {
	WAMessageID   string
	From, Chat    string
	Type          MessageType
	Text, Caption string
	Media         *PhoneMedia
	Location      *WALocation
	Contacts      []PhoneContact
	Poll          *Poll // question, options, MultipleAnswers
	ReceivedAt    time.Time
}

// PhoneContact is a shared contact as the phone received it: the name
// shown and the vCard as sent.
type PhoneContact struct {
	Name, VCard string
}

// PhoneSend is a message a simulated contact sends to an instance
// (SPEC §15a): Type names the kind, and the fields of that kind are set.
type PhoneSend struct {
	Type          MessageType
	Text, Caption string
	Media         *PhoneFile
	Location      *WALocation
	Contacts      []ContactCard
	Poll          *Poll
}

// PhoneFile is the file of a media message a contact sends.
type PhoneFile struct {
	Data     []byte
	MimeType string
	FileName string
	PTT      bool // audio: a voice note
	GIF      bool // video: plays looped
}

// PhoneMedia describes the file a simulated phone downloaded and decrypted
// (the bytes themselves are not kept in the record).
type PhoneMedia struct {
	MimeType string
	Size     int64
	FileName string
	PTT      bool   // audio: a voice note
	GIF      bool   // video: plays looped
	Animated bool   // sticker
	Seconds  uint32 // audio: the length the sender gave
	Waveform []byte // audio: the levels the sender drew (64, 0–100)
}
