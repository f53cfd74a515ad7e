package evals

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// send makes the step's request: a tool call, or a resource read, prompt or completion,
// whose result body is JSON the expectations match like a tool's structuredContent.
func (r *Runner) send(ctx context.Context, timeout time.Duration, cs *mcp.ClientSession, v vars, s Step, args map[string]any, exp *Expect) (isError bool, body any, err error) {
	if s.Tool != "" {
		res, err := callTool(ctx, timeout, cs, s.Tool, args, !expectsRateLimit(exp))
		if err != nil {
			return false, nil, err
		}
		return res.IsError, resultBody(res), nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out any
	switch {
	case s.Resource != "":
		uri, ierr := v.interpolateString(s.Resource)
		if ierr != nil {
			return false, nil, badStep("resource: " + ierr.Error())
		}
		res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			return false, nil, err
		}
		if len(res.Contents) == 0 {
			return false, nil, badStep("resources/read returned no contents")
		}
		out = res.Contents[0].Text
		if decoded, derr := decodeJSON([]byte(res.Contents[0].Text)); derr == nil {
			out = decoded
		}
	case s.Prompt != "":
		res, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: s.Prompt, Arguments: promptArguments(args)})
		if err != nil {
			return false, nil, err
		}
		messages := []any{}
		for _, m := range res.Messages {
			text := ""
			if t, ok := m.Content.(*mcp.TextContent); ok {
				text = t.Text
			}
			messages = append(messages, map[string]any{"role": string(m.Role), "text": text})
		}
		out = map[string]any{"description": res.Description, "messages": messages}
	default:
		params, ferr := completionParams(v, s.Complete)
		if ferr != nil {
			return false, nil, ferr
		}
		res, err := cs.Complete(ctx, params)
		if err != nil {
			return false, nil, err
		}
		values := make([]any, len(res.Completion.Values))
		for i, val := range res.Completion.Values {
			values[i] = val
		}
		out = map[string]any{"values": values, "has_more": res.Completion.HasMore}
	}
	body, derr := decodeJSON(raw(out)) // the same JSON types as a tool's result
	if derr != nil {
		return false, nil, derr
	}
	return false, body, nil
}

// badStep is a step that could not be sent (an interpolation failed) or whose answer was
// unusable: a failure of the step, not an MCP error.
type badStep string

func (b badStep) Error() string { return string(b) }

// promptArguments are a prompt's arguments, which MCP takes as strings.
func promptArguments(args map[string]any) map[string]string {
	out := make(map[string]string, len(args))
	for k, val := range args {
		if str, ok := val.(string); ok {
			out[k] = str
		} else {
			out[k] = text(val)
		}
	}
	return out
}

// completionParams is the completion/complete request of c, its texts interpolated.
func completionParams(v vars, c *Completion) (*mcp.CompleteParams, error) {
	value, err := v.interpolateString(c.Value)
	if err != nil {
		return nil, badStep("complete: " + err.Error())
	}
	ref := &mcp.CompleteReference{Type: "ref/prompt", Name: c.Prompt}
	if c.Resource != "" {
		ref = &mcp.CompleteReference{Type: "ref/resource", URI: c.Resource}
	}
	p := &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: c.Argument, Value: value}}
	if len(c.Context) > 0 {
		p.Context = &mcp.CompleteContext{Arguments: map[string]string{}}
		for k, val := range c.Context {
			if p.Context.Arguments[k], err = v.interpolateString(val); err != nil {
				return nil, badStep("complete: " + err.Error())
			}
		}
	}
	return p, nil
}

// callTool calls a tool, each attempt within timeout; with retryRefusals, a call refused
// as rate_limited (the server is shared, and a suite's runs share their workspace's limit)
// is made again after the refusal's retry_after, until ctx ends.
func callTool(ctx context.Context, timeout time.Duration, cs *mcp.ClientSession, tool string, args map[string]any, retryRefusals bool) (*mcp.CallToolResult, error) {
	for {
		callCtx, cancel := context.WithTimeout(ctx, timeout)
		res, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: tool, Arguments: args})
		cancel()
		if err != nil || !res.IsError || !retryRefusals {
			return res, err
		}
		obj, _ := resultBody(res).(map[string]any)
		e, _ := obj["error"].(map[string]any)
		if e["code"] != "rate_limited" {
			return res, nil
		}
		if waitRetry(ctx, fmt.Sprint(e["retry_after"])) != nil {
			return res, nil
		}
	}
}

// expectsRateLimit reports whether exp is the error rate_limited, which is then not retried.
func expectsRateLimit(exp *Expect) bool {
	code := exp.Error
	if pat, ok := exp.Error.(map[string]any); ok {
		code = pat["code"]
	}
	return code == "rate_limited"
}
