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
	// What the sender did to the message since, and what it referred to
	// (SPEC §6a): reactions by account, the last edit's text, a deletion
	// for everyone; the quoted message's id, mentioned JIDs, the
	// forwarded mark and a link preview's title.
	Reactions    []Reaction
	EditedText   string
	Deleted      bool
	Quoted       string
	Mentions     []string
	IsForwarded  bool
	PreviewTitle string
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
	// Width and Height are an image's or a video's as the sender gave
	// them (Seconds is a video's length too).
	Width, Height uint32
	Thumbnail     *PhoneThumbnail // the JPEG preview the sender attached
}

// PhoneThumbnail is a preview a phone received and decoded as a JPEG.
type PhoneThumbnail struct {
	Width, Height int
	Size          int // bytes
}
