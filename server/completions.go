package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/completions"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/tools"
)

// completeArguments answers completion/complete for the arguments of Relm's prompts and
// resource templates, with values of the caller's workspace and mode; an argument with
// nothing to complete (free text, or unknown) gets no values.
func completeArguments(reg *tools.Registry, log *slog.Logger) func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	return func(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
		p := req.Params
		var kind completions.Kind
		ok := false
		switch {
		case p == nil || p.Ref == nil:
		case p.Ref.Type == "ref/prompt":
			kind, ok = prompts.ArgumentKind(p.Ref.Name, p.Argument.Name)
		case p.Ref.Type == "ref/resource":
			kind, ok = resources.ArgumentKind(p.Ref.URI, p.Argument.Name)
		}
		res := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}
		if !ok {
			return res, nil
		}
		var others map[string]string
		if p.Context != nil {
			others = p.Context.Arguments
		}
		values, more, err := completions.Complete(ctx, reg, kind, p.Argument.Value, others)
		var te *tools.Error
		switch {
		case errors.As(err, &te) && te.Status < 500:
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: te.Message}
		case err != nil:
			log.ErrorContext(ctx, "complete an argument", "request_id", tools.RequestID(ctx), "err", err)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "Could not complete the argument right now. Retry shortly."}
		}
		if values != nil {
			res.Completion.Values = values
		}
		res.Completion.HasMore = more
		return res, nil
	}
}
