package bulks

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// checkBulk checks every field of cmd but the template's existence and
// variables (which need the store), and returns the pacing to use and the
// normalised recipients.
func (s *Service) checkBulk(cmd CreateCmd, now time.Time) (Pacing, []string, error) {
	var errs fieldList
	switch {
	case cmd.TemplateID != "" && cmd.Text != "":
		errs.add("text", "give either templateId or text, not both")
	case cmd.TemplateID == "" && cmd.Text == "":
		errs.add("text", "templateId or text is required")
	case cmd.TemplateID != "":
		if len(cmd.TemplateID) > 64 || !ports.ValidText(string(cmd.TemplateID)) || strings.ContainsAny(string(cmd.TemplateID), " \t\r\n/") {
			errs.add("templateId", "is not a template id")
		}
	default:
		if e := messaging.CheckText(cmd.Text); e != nil {
			errs.add(e.Field, e.Message)
		}
	}
	pacing := Pacing{Min: s.cfg.PacingMin, Max: s.cfg.PacingMax}
	if cmd.Pacing != nil {
		pacing = *cmd.Pacing
		bound := fmt.Sprintf("must be 0 to %d milliseconds", MaxPacing.Milliseconds())
		if pacing.Min < 0 || pacing.Min > MaxPacing {
			errs.add("pacing.minDelayMs", bound)
		}
		if pacing.Max < 0 || pacing.Max > MaxPacing {
			errs.add("pacing.maxDelayMs", bound)
		} else if pacing.Max < pacing.Min {
			errs.add("pacing.maxDelayMs", "must not be less than minDelayMs")
		}
	}
	if at := cmd.ScheduledAt; at != nil {
		switch {
		case at.Before(now.Add(-bulkSchedulePast)):
			errs.add("scheduledAt", "must not be in the past")
		case at.After(now.Add(MaxSchedule)):
			errs.add("scheduledAt", fmt.Sprintf("must be at most %d days ahead", int(MaxSchedule/(24*time.Hour))))
		}
	}
	tos := checkRecipients(cmd, &errs)
	return pacing, tos, errs.err()
}

// checkRecipients checks the count and every recipient, and returns the
// normalised numbers.
func checkRecipients(cmd CreateCmd, errs *fieldList) []string {
	if n := len(cmd.Recipients); n < 1 || n > MaxRecipients {
		errs.add("recipients", fmt.Sprintf("must hold 1 to %d recipients", MaxRecipients))
		return nil
	}
	tos := make([]string, len(cmd.Recipients))
	first := make(map[string]int, len(cmd.Recipients))
	for n, r := range cmd.Recipients {
		at := fmt.Sprintf("recipients[%d].", n)
		to, err := messaging.NormaliseTo(r.To)
		switch {
		case err != nil:
			errs.add(at+"to", err.Message)
		case first[to] > 0:
			errs.add(at+"to", fmt.Sprintf("repeats recipients[%d].to", first[to]-1))
		default:
			first[to] = n + 1
		}
		tos[n] = to
		if e := checkVariables(cmd.TemplateID, r.Variables); e != "" {
			errs.add(at+"variables", e)
		}
	}
	return tos
}

// checkVariables returns what is wrong with a recipient's variables, "" if
// nothing.
func checkVariables(tpl ports.TemplateID, vars map[string]string) string {
	if len(vars) == 0 {
		return ""
	}
	if tpl == "" {
		return "are only used with templateId"
	}
	if len(vars) > MaxVariables {
		return fmt.Sprintf("must hold at most %d variables", MaxVariables)
	}
	for k, v := range vars {
		if k == "" || utf8.RuneCountInString(k) > MaxVariableLen || utf8.RuneCountInString(v) > MaxVariableLen {
			return fmt.Sprintf("names must be 1 to %d characters, values at most %d", MaxVariableLen, MaxVariableLen)
		}
		if !ports.ValidText(k) || !ports.ValidText(v) {
			return "must be valid UTF-8 without NUL characters"
		}
	}
	return ""
}

// bulkTexts returns each recipient's text: the bulk's text, or the
// subscription's template rendered with the recipient's variables. A
// template that is not the subscription's is EInvalid on templateId: it is
// a field of the request, not the resource the path names.
func (s *Service) bulkTexts(ctx context.Context, st ports.Stores, sub ports.SubscriptionID, cmd CreateCmd) ([]string, error) {
	texts := make([]string, len(cmd.Recipients))
	if cmd.TemplateID == "" {
		for n := range texts {
			texts[n] = cmd.Text
		}
		return texts, nil
	}
	if s.d.Render == nil {
		return nil, ports.InvalidFields(ports.FieldError{Field: "templateId", Message: "templates are not available"})
	}
	t, err := st.Templates.GetTemplate(ctx, sub, cmd.TemplateID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil, ports.InvalidFields(ports.FieldError{Field: "templateId", Message: "no such template"})
	}
	if err != nil {
		return nil, fmt.Errorf("get template: %w", err)
	}
	var errs fieldList
	for n, r := range cmd.Recipients {
		text, err := s.d.Render(t, r.Variables)
		if err == nil {
			texts[n] = text
			continue
		}
		e := ports.AsError(err)
		if e == nil || e.Code != ports.EInvalid {
			return nil, fmt.Errorf("render template for recipient %d: %w", n, err)
		}
		for _, f := range e.Fields {
			errs.add(fmt.Sprintf("recipients[%d].%s", n, f.Field), f.Message)
		}
	}
	return texts, errs.err()
}

// fieldList gathers field errors up to maxBulkFieldErrors, then counts
// the rest.
type fieldList struct {
	fields []ports.FieldError
	more   int
}

func (l *fieldList) add(field, msg string) {
	if len(l.fields) >= maxBulkFieldErrors {
		l.more++
		return
	}
	l.fields = append(l.fields, ports.FieldError{Field: field, Message: msg})
}

// err is the EInvalid of the gathered errors, nil if none.
func (l *fieldList) err() error {
	if len(l.fields) == 0 {
		return nil
	}
	fields := l.fields
	if l.more > 0 {
		fields = append(fields, ports.FieldError{Field: "recipients", Message: fmt.Sprintf("%d more errors not listed", l.more)})
	}
	return ports.InvalidFields(fields...)
}
