package driftreport

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Level is the kind of a report line, as named in the JSON envelope.
type Level string

// Line levels. Text output prints PASS/WARN/INFO/FAIL prefixes, "## " before
// a section (after a blank line) and output lines (table rows) as they are.
const (
	LevelSection Level = "section"
	LevelPass    Level = "pass"
	LevelWarn    Level = "warn"
	LevelInfo    Level = "info"
	LevelFail    Level = "fail"
	LevelOutput  Level = "output"
)

// Line is one report line.
type Line struct {
	Level   Level  `json:"level"`
	Message string `json:"message"`
}

// Envelope is a finished command run: --output json prints it as is, text
// output prints its lines on stdout and each failure as "FAIL <failure>" on
// stderr.
type Envelope struct {
	OK          bool      `json:"ok"`
	Command     string    `json:"command"`
	GeneratedAt time.Time `json:"generated_at"`
	Lines       []Line    `json:"lines,omitempty"`
	Failures    []string  `json:"failures,omitempty"`
}

// Format is an --output value.
type Format string

// Output formats.
const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// ParseFormat checks an --output value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON:
		return f, nil
	default:
		return "", fmt.Errorf("--output %q: must be text or json", s)
	}
}

// Emit prints e in format f: JSON on stdout only, or text lines on stdout
// and failures on stderr.
func Emit(stdout, stderr io.Writer, f Format, e Envelope) error {
	if f == FormatJSON {
		return WriteJSON(stdout, e)
	}
	if err := WriteText(stdout, e.Lines); err != nil {
		return err
	}
	for _, failure := range e.Failures {
		if _, err := fmt.Fprintf(stderr, "FAIL %s\n", Clean(failure)); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// WriteText prints lines for a terminal.
func WriteText(w io.Writer, lines []Line) error {
	var b strings.Builder
	for i, l := range lines {
		switch l.Level {
		case LevelSection:
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("## " + l.Message)
		case LevelOutput:
			b.WriteString(l.Message)
		default:
			b.WriteString(strings.ToUpper(string(l.Level)) + " " + l.Message)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteJSON prints e as indented JSON.
func WriteJSON(w io.Writer, e Envelope) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Clean replaces every control character (C0, DEL, C1), Unicode format
// character (bidi overrides, zero-width marks) and invalid UTF-8 byte of s
// with '?', so a string read from the database cannot drive the terminal.
func Clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
