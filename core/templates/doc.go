// Package templates is the message templates core module of SPEC §8: a
// subscription's named bodies with {{variable}} placeholders, and their
// rendering.
//
// The placeholder syntax:
//
//   - {{name}} is replaced by the variable name; whitespace inside the
//     braces is allowed ({{ name }}). A name is 1–64 letters, digits,
//     underscores, dots or dashes.
//   - \{{ is a literal "{{" (the backslash goes); it is the only escape, and
//     a backslash anywhere else is kept as it is. A lone "{" or "}}" needs no
//     escape.
//   - Anything else after "{{" (an empty "{{}}", a bad name, or no closing
//     "}}") makes the body invalid: 422 on the field body.
//
// Values are inserted verbatim: a value holding "{{x}}" stays as it is, it
// is not expanded again.
//
// Who may do what: templates are account-level, so only users create,
// change and delete them. API keys of the subscription may list, get and
// render them (with the messages:send scope), so that a bulk send made
// with a key can use them.
package templates
