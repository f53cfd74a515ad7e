package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

// ErrKeyRefused means the API key given to ServeMCP is unknown, revoked or expired.
var ErrKeyRefused = errors.New("server: the API key is unknown, revoked or expired")

// CodeUnauthorizedRPC is the JSON-RPC error code of an MCP request over a transport other
// than HTTP (stdio) whose API key stopped working.
const CodeUnauthorizedRPC = -32001

// ServeMCP serves MCP over t (stdio, for `relm mcp`) as the caller of key until the client
// disconnects or ctx ends: the tools of sel, with the validation, metering and request logs
// of /mcp. Each request is authenticated anew, so a revoked key stops working at once.
func (s *Server) ServeMCP(ctx context.Context, key string, sel tools.Selection, t mcp.Transport) error {
	if s.store == nil {
		return errors.New("server: MCP needs a store")
	}
	if _, err := s.store.Authenticate(ctx, key); errors.Is(err, store.ErrNotFound) {
		return ErrKeyRefused
	} else if err != nil {
		return err
	}
	srv := s.buildMCP(sel)
	srv.AddReceivingMiddleware(s.asCaller(key, sel)) // outermost: what HTTP's middleware does for /mcp
	session, err := srv.Connect(ctx, t, nil)
	if err != nil {
		return fmt.Errorf("server: MCP over %T: %w", t, err)
	}
	return session.Wait()
}

// asCaller is MCP middleware doing for a connection of one key what the HTTP middleware
// does for each /mcp request: authenticate the key, give the request an id, a slot for its
// outcome and one for its metering decision, name its selection of tools (sel), and log a
// tool call once it is answered.
func (s *Server) asCaller(key string, sel tools.Selection) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if strings.HasPrefix(method, "notifications/") {
				return next(ctx, method, req)
			}
			start := time.Now()
			c, err := s.store.Authenticate(ctx, key)
			if errors.Is(err, store.ErrNotFound) {
				return nil, &jsonrpc.Error{Code: CodeUnauthorizedRPC, Message: "The API key is unknown, revoked or expired: " +
					"set RELM_API_KEY to a working key (relm keys create) and start relm mcp again."}
			}
			if err != nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "Could not check the API key right now. Retry shortly."}
			}
			ctx = tools.WithSelection(tools.WithRequestID(auth.WithCaller(ctx, c), newRequestID()), sel)
			ctx, outcome := tools.WithOutcome(ctx)
			ctx = context.WithValue(ctx, decisionKey{}, &decisionSlot{})
			res, err := next(ctx, method, req)
			if call, ok := req.(*mcp.CallToolRequest); ok && s.logs != nil {
				s.logs.Add(c, s.metered.stamp(ctx, start, mcpCallLog(call.Params.Name, outcome, 0)))
			}
			return res, err
		}
	}
}
