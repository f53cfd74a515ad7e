package evals

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// journalExt ends the name of a session's journal; its transcript has the same name with
// .json instead.
const journalExt = ".jsonl"

// journalHeader is the first line of a journal: what the transcript says about the session.
type journalHeader struct {
	Name     string    `json:"name"`
	Mode     string    `json:"mode"`
	Plan     string    `json:"plan,omitempty"`
	Client   string    `json:"client,omitempty"`
	Started  time.Time `json:"started"`
	Toolsets []string  `json:"toolsets,omitempty"`
	ReadOnly bool      `json:"read_only,omitempty"`
}

// journalEntry is every later line of a journal: one finished call and the place it
// started at in the session (calls end in any order).
type journalEntry struct {
	Seq int `json:"seq"`
	Call
}

// append writes one finished call at the end of the recording's journal, creating the
// journal with its header on the first call. Called with rec.mu held.
func (r *Recorder) append(rec *recording, seq int, c Call) error {
	line, err := json.Marshal(journalEntry{Seq: seq, Call: c})
	if err != nil {
		return err
	}
	if rec.file == nil {
		head, err := json.Marshal(rec.header)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(rec.journal, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		rec.file = f
		line = slices.Concat(head, []byte("\n"), line)
	}
	n, err := rec.file.Write(append(line, '\n')) // one write: a crash leaves at most a partial last line
	r.stats.journalBytes.Add(int64(n))
	return err
}

// writeTranscript transcribes the journal at path into the transcript next to it, then
// removes the journal. A journal without calls is removed and writes nothing.
func (r *Recorder) writeTranscript(path string) error {
	head, calls, err := readJournal(path)
	if err != nil {
		return err
	}
	if len(calls) > 0 {
		t := Transcribe(head.Name, head.description(len(calls)), head.Mode, calls, r.catalog)
		t.Plan, t.Toolsets, t.ReadOnly = head.Plan, head.Toolsets, head.ReadOnly
		flagHiddenSetup(t, r.catalog)
		data := Encode(t)
		if err := writeAtomic(transcriptOf(path), data); err != nil {
			return err
		}
		r.stats.transcriptions.Add(1)
		r.stats.transcriptBytes.Add(int64(len(data)))
	}
	return os.Remove(path)
}

// flagHiddenSetup notes on the setup steps that call a tool the transcript's selection
// hides (a session under read_only=true used records it did not create) that the replay
// cannot make them: it fails there, showing the note.
func flagHiddenSetup(t *Transcript, cat Catalog) {
	for i, s := range t.Setup {
		if cat.hides(t.Toolsets, t.ReadOnly, s.Tool) {
			t.Setup[i].Note = s.Note + "; " + s.Tool + " is hidden by this transcript's toolsets or read_only," +
				" so the replay fails here: remove the selection, or prepare the workspace otherwise"
		}
	}
}

// transcriptOf is the transcript file of the journal at path.
func transcriptOf(path string) string {
	return strings.TrimSuffix(path, journalExt) + ".json"
}

// readJournal reads a journal's header and its calls in the order they started. A last
// line cut short by a crash is left out.
func readJournal(path string) (journalHeader, []Call, error) {
	var head journalHeader
	data, err := os.ReadFile(path)
	if err != nil {
		return head, nil, err
	}
	rd := bufio.NewReader(bytes.NewReader(data))
	first, err := rd.ReadBytes('\n')
	if err != nil || json.Unmarshal(first, &head) != nil || head.Name == "" {
		return head, nil, fmt.Errorf("%s: not a recording journal (no header line)", path)
	}
	var entries []journalEntry
	for {
		line, err := rd.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // a line without its newline was cut short
		}
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return head, nil, fmt.Errorf("%s: line %d: %w", path, len(entries)+2, err)
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b journalEntry) int { return a.Seq - b.Seq })
	calls := make([]Call, len(entries))
	for i, e := range entries {
		calls[i] = e.Call
	}
	return head, calls, nil
}

func (h journalHeader) description(calls int) string {
	from := ""
	if h.Client != "" {
		from = " from " + h.Client
	}
	return fmt.Sprintf("Recorded by relm serve --record%s, %s (%s mode, %d tool calls). Describe what the agent was asked to do.",
		from, h.Started.UTC().Format("2006-01-02 15:04 UTC"), h.Mode, calls)
}

// Recover writes the transcripts of the journals in the recorder's directory that have
// none: the sessions under way when a server recording there was killed. A journal whose
// transcript exists is removed. Only one server may record into a directory.
func (r *Recorder) Recover() error {
	journals, err := filepath.Glob(filepath.Join(r.dir, "recorded-*"+journalExt))
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range journals {
		if _, err := os.Stat(transcriptOf(j)); err == nil {
			errs = append(errs, os.Remove(j)) // written just before the crash
			continue
		}
		if err := r.writeTranscript(j); err != nil {
			errs = append(errs, err)
		} else {
			r.log.Info("evals: wrote the transcript of a session recorded before a crash", "file", transcriptOf(j))
		}
	}
	return errors.Join(errs...)
}
