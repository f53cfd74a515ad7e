// Package evals will hold recorded agent sessions (MCP tool calls with expected results)
// and the runner that replays them against a fresh workspace. Nothing is here yet: the
// replay runner and its transcripts are tracked as their own issue.
package evals
