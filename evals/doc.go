// Package evals replays and records agent sessions against Relm's MCP server.
//
// A Transcript (JSON, validated against transcript.schema.json, generated from the Go types
// by schema.go) is one agent session: ordered tool calls, each with expectations on its
// result — success or an error code, a partial match on structuredContent with matchers for
// values that differ per run — and captures that later calls refer to as {{name}};
// optional setup calls before, and read-only final_state calls after, to grade by outcome.
// A Runner replays transcripts through a real MCP client session against a Target: a fresh
// workspace served in-process (package sandbox) or a running server (Remote), once or
// Repeat times each to measure reliability as pass^k; a Target may decline a transcript
// with a SkipError. The Recorder is MCP server middleware that writes live sessions as
// transcripts that replay unedited.
//
// The transcripts in suite/ are built into the binary (Suite), replayed by `relm eval`
// and by `go test`, and call every tool at least once. evals/README.md documents the
// format in full.
package evals
