package entstore

import (
	"encoding/json"
	"time"

	"github.com/wagate/wagate/ports"
)

// The contacts and poll of a message are stored as JSON in text columns:
// they are read with their message and never queried. These records are
// the stored form, apart from the ports types so that renaming a Go field
// cannot change what is on disk.

type contactRecord struct {
	Name         string        `json:"name"`
	Phones       []phoneRecord `json:"phones"`
	Email        string        `json:"email,omitempty"`
	Organization string        `json:"organization,omitempty"`
}

type phoneRecord struct {
	Number string `json:"number"`
	Type   string `json:"type,omitempty"`
}

type pollRecord struct {
	Question string       `json:"question"`
	Options  []string     `json:"options"`
	Multiple bool         `json:"multiple,omitempty"`
	Votes    []voteRecord `json:"votes,omitempty"`
}

type voteRecord struct {
	Voter    string    `json:"voter"`
	Selected []string  `json:"selected"`
	At       time.Time `json:"at"`
}

func encodeContacts(cards []ports.ContactCard) string {
	if len(cards) == 0 {
		return ""
	}
	recs := make([]contactRecord, len(cards))
	for i, c := range cards {
		recs[i] = contactRecord{Name: c.Name, Email: c.Email, Organization: c.Organization}
		for _, p := range c.Phones {
			recs[i].Phones = append(recs[i].Phones, phoneRecord(p))
		}
	}
	b, _ := json.Marshal(recs) // plain strings: cannot fail
	return string(b)
}

// decodeContacts reads the column back; nil for an empty or unreadable one.
func decodeContacts(s string) []ports.ContactCard {
	var recs []contactRecord
	if s == "" || json.Unmarshal([]byte(s), &recs) != nil {
		return nil
	}
	cards := make([]ports.ContactCard, len(recs))
	for i, r := range recs {
		cards[i] = ports.ContactCard{Name: r.Name, Email: r.Email, Organization: r.Organization}
		for _, p := range r.Phones {
			cards[i].Phones = append(cards[i].Phones, ports.ContactPhone(p))
		}
	}
	return cards
}

func encodePoll(p *ports.Poll) string {
	if p == nil {
		return ""
	}
	rec := pollRecord{Question: p.Question, Options: p.Options, Multiple: p.MultipleAnswers}
	for _, v := range p.Votes {
		rec.Votes = append(rec.Votes, voteRecord{Voter: v.Voter, Selected: v.Selected, At: v.At.UTC()})
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

// decodePoll reads the column back; nil for an empty or unreadable one.
func decodePoll(s string) *ports.Poll {
	var rec pollRecord
	if s == "" || json.Unmarshal([]byte(s), &rec) != nil {
		return nil
	}
	p := &ports.Poll{Question: rec.Question, Options: rec.Options, MultipleAnswers: rec.Multiple}
	for _, v := range rec.Votes {
		p.Votes = append(p.Votes, ports.PollVote{Voter: v.Voter, Selected: v.Selected, At: v.At})
	}
	return p
}
