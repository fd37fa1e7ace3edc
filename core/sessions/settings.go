package sessions

import (
	"fmt"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// SettingsPatch changes an instance's behaviour (SPEC §16); nil fields
// stay as they are.
type SettingsPatch struct {
	RejectCalls            *bool
	RejectCallMessage      *string
	AutoRead               *bool
	AlwaysOnline           *bool
	IgnoreGroups           *bool
	IgnoreStatusBroadcasts *bool
}

func checkSettings(p *SettingsPatch) *ports.FieldError {
	if m := p.RejectCallMessage; m != nil && (!utf8.ValidString(*m) || utf8.RuneCountInString(*m) > ports.MaxRejectCallMessage) {
		return &ports.FieldError{Field: "settings.rejectCallMessage", Message: fmt.Sprintf("must be at most %d characters", ports.MaxRejectCallMessage)}
	}
	return nil
}

// applySettings sets the patch's fields; true if any changed.
func applySettings(s *ports.InstanceSettings, p SettingsPatch) bool {
	before := *s
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.RejectCalls, p.RejectCalls)
	set(&s.AutoRead, p.AutoRead)
	set(&s.AlwaysOnline, p.AlwaysOnline)
	set(&s.IgnoreGroups, p.IgnoreGroups)
	set(&s.IgnoreStatusBroadcasts, p.IgnoreStatusBroadcasts)
	if p.RejectCallMessage != nil {
		s.RejectCallMessage = *p.RejectCallMessage
	}
	return *s != before
}
