package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/relmcrm/relm/rest"
)

// mcpRequestMethods are the JSON-RPC request methods /mcp answers (those the go-sdk server
// handles); anything else is -32601 before it is metered.
var mcpRequestMethods = []string{
	"initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
	"resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
	"completion/complete", "logging/setLevel", "server/discover", "subscriptions/listen",
}

// mcpMessage is the one JSON-RPC message of an MCP POST, as the envelope check read it.
type mcpMessage struct {
	Method string
	Call   bool   // a request (with an id), not a notification or a response
	Tool   string // the tool a tools/call names
	// A tools/call whose params are only a name and arguments, which directToolCalls may
	// answer itself: its id and arguments.
	Plain     bool
	ID        jsonrpc.ID
	Arguments json.RawMessage
}

type mcpMessageKey struct{}

func mcpMessageFrom(ctx context.Context) (mcpMessage, bool) {
	m, ok := ctx.Value(mcpMessageKey{}).(mcpMessage)
	return m, ok
}

// checkMCPEnvelope reads the JSON-RPC message of an authenticated MCP POST before anything
// is metered or run, and answers what the protocol refuses with a JSON-RPC error object:
// unparsable JSON (-32700), a batch — no protocol version Relm serves has them, so none is
// run, even in part — or a malformed envelope (-32600), an unknown request method (-32601).
// A notification of an unknown method is accepted and ignored, as JSON-RPC asks. The
// message goes into the request context for metering, and the body is restored for the SDK.
func checkMCPEnvelope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcp" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeErr(r.Context(), w, rest.BodyReadError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		msg, id, rpcErr := parseMCPMessage(body)
		if rpcErr != nil {
			writeRPCError(w, http.StatusBadRequest, id, rpcErr)
			return
		}
		if !msg.Call && msg.Method != "" && !strings.HasPrefix(msg.Method, "notifications/") {
			// A notification of a method the server does not know: nothing to do.
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if msg.Call && !slices.Contains(mcpRequestMethods, msg.Method) {
			writeRPCError(w, http.StatusNotFound, id, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound,
				Message: fmt.Sprintf("Method %q does not exist on this server. Use tools/list and tools/call.", msg.Method)})
			return
		}
		ctx := context.WithValue(r.Context(), mcpMessageKey{}, msg)
		rw := &rpcErrorWriter{ResponseWriter: w, id: id}
		next.ServeHTTP(rw, r.WithContext(ctx))
		rw.finish()
	})
}

// parseMCPMessage decodes one JSON-RPC message; on failure it returns the error to answer
// and the message's id when it could be read.
func parseMCPMessage(body []byte) (mcpMessage, jsonrpc.ID, *jsonrpc.Error) {
	var none jsonrpc.ID
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' && !json.Valid(trimmed) { // an object is checked as it is decoded
		return mcpMessage{}, none, notJSON()
	}
	if trimmed[0] == '[' {
		return mcpMessage{}, none, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
			Message: "JSON-RPC batches are not supported (MCP 2025-06-18 and later have none): send each message in its own POST. Nothing in this batch was run."}
	}
	if trimmed[0] != '{' {
		return mcpMessage{}, none, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
			Message: "The body must be one JSON-RPC 2.0 message, a JSON object."}
	}
	if msg, id, ok := parsePlainRequest(trimmed); ok {
		return msg, id, nil
	}
	return parseMCPMessageSDK(trimmed)
}

// notJSON is the error for a body that is not JSON.
func notJSON() *jsonrpc.Error {
	return &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "The body is not valid JSON. Send one JSON-RPC 2.0 message as a JSON object."}
}

// parseMCPMessageSDK is parseMCPMessage of a JSON object through the SDK's decoder.
func parseMCPMessageSDK(trimmed []byte) (mcpMessage, jsonrpc.ID, *jsonrpc.Error) {
	var none jsonrpc.ID
	decoded, err := jsonrpc.DecodeMessage(trimmed)
	if err != nil && !json.Valid(trimmed) {
		return mcpMessage{}, none, notJSON()
	}
	if err != nil {
		return mcpMessage{}, none, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
			Message: "Not a valid JSON-RPC 2.0 message (" + err.Error() + `). Send {"jsonrpc":"2.0","id":…,"method":…,"params":…}.`}
	}
	req, ok := decoded.(*jsonrpc.Request)
	if !ok {
		return mcpMessage{}, none, nil // a response to a server request: the SDK deals with it
	}
	msg := mcpMessage{Method: req.Method, Call: req.IsCall()}
	if req.Method == "" {
		return msg, req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "The message has an empty method."}
	}
	if msg.Call && req.Method == "tools/call" {
		var params map[string]json.RawMessage
		_ = json.Unmarshal(req.Params, &params)
		_ = json.Unmarshal(params["name"], &msg.Tool) // a malformed name is logged as given; the SDK rejects it
		_, hasName := params["name"]
		_, hasArgs := params["arguments"]
		msg.Plain = hasName && len(params) == 1 || hasName && hasArgs && len(params) == 2
		msg.ID, msg.Arguments = req.ID, params["arguments"]
	}
	return msg, req.ID, nil
}

// parsePlainRequest reads the common message, a request of only jsonrpc "2.0", a plain
// method, an integer or plain string id (or none) and object params, without the SDK's
// decoder (which allocates tens of kilobytes per message); ok is false for anything else,
// which jsonrpc.DecodeMessage then reads. What it accepts, it reads as DecodeMessage does
// (TestParsePlainRequestAgreesWithSDK).
func parsePlainRequest(body []byte) (msg mcpMessage, id jsonrpc.ID, ok bool) {
	if !utf8.Valid(body) || nestedDeeper(body, maxMessageDepth) || !json.Valid(body) {
		return mcpMessage{}, id, false
	}
	var buf [8]member
	fields, ok := members(body, buf[:0])
	if !ok {
		return mcpMessage{}, id, false
	}
	var params []member
	hasVersion := false
	for _, f := range fields {
		v := f.value
		switch string(f.name) {
		case "jsonrpc":
			hasVersion = string(v) == `"2.0"`
		case "method":
			if len(v) < 3 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
				return mcpMessage{}, id, false
			}
			msg.Method = string(v[1 : len(v)-1])
		case "id":
			var idOK bool
			if id, idOK = plainID(v); !idOK {
				return mcpMessage{}, id, false
			}
		case "params":
			var pbuf [4]member
			if params, ok = members(v, pbuf[:0]); !ok {
				return mcpMessage{}, id, false
			}
		default: // result, error, or a key the SDK ignores: its decoder decides
			return mcpMessage{}, id, false
		}
	}
	if !hasVersion || msg.Method == "" {
		return mcpMessage{}, id, false
	}
	msg.Call = id.IsValid()
	if msg.Call && msg.Method == "tools/call" {
		var name, args []byte
		for _, p := range params {
			switch string(p.name) {
			case "name":
				name = p.value
			case "arguments":
				args = p.value
			}
		}
		if len(name) >= 2 && name[0] == '"' && bytes.IndexByte(name, '\\') < 0 {
			msg.Tool = string(name[1 : len(name)-1])
		} else {
			_ = json.Unmarshal(name, &msg.Tool) // a malformed name is logged as given; the SDK rejects it
		}
		msg.Plain = name != nil && len(params) == 1 || name != nil && args != nil && len(params) == 2
		msg.ID, msg.Arguments = id, args
	}
	return msg, id, true
}

// member is one name and raw value of a JSON object.
type member struct {
	name, value []byte
}

// members appends the members of the JSON object data, which must be valid JSON
// (json.Valid), to into, in order, without decoding their values; ok is false when data is
// not an object or a name holds an escape or comes twice, which only a decoder reads as
// the SDK does.
func members(data []byte, into []member) (_ []member, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	if i = skipSpace(data, i+1); data[i] == '}' {
		return into, true
	}
	for {
		end := stringEnd(data, i)
		name := data[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			return nil, false
		}
		for _, m := range into {
			if bytes.Equal(m.name, name) {
				return nil, false
			}
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = valueEnd(data, i)
		into = append(into, member{name: name, value: data[i:end]})
		if i = skipSpace(data, end); data[i] == '}' {
			return into, true
		}
		i = skipSpace(data, i+1) // past the comma
	}
}

// skipSpace is the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index just past the JSON string starting at data[i].
func stringEnd(data []byte, i int) int {
	for i++; data[i] != '"'; i++ {
		if data[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd is the index just past the JSON value starting at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				j = stringEnd(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i // a number, true, false or null
	for j < len(data) && strings.IndexByte(",}] \t\r\n", data[j]) < 0 {
		j++
	}
	return j
}

// plainID reads a request id that is null, an integer of at most 15 digits (which the
// SDK's float64 holds exactly) or a string without escapes.
func plainID(v json.RawMessage) (jsonrpc.ID, bool) {
	switch {
	case string(v) == "null":
		return jsonrpc.ID{}, true
	case len(v) >= 2 && v[0] == '"':
		if bytes.IndexByte(v, '\\') >= 0 {
			return jsonrpc.ID{}, false
		}
		id, err := jsonrpc.MakeID(string(v[1 : len(v)-1]))
		return id, err == nil
	}
	digits := v
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 || len(digits) > 1 && digits[0] == '0' {
		return jsonrpc.ID{}, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return jsonrpc.ID{}, false
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return jsonrpc.ID{}, false
	}
	id, err := jsonrpc.MakeID(float64(n))
	return id, err == nil
}

// maxMessageDepth is the nesting the SDK's decoder accepts in a message.
const maxMessageDepth = 1000

// nestedDeeper reports whether the objects and arrays of JSON data nest deeper than max.
func nestedDeeper(data []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return false
}

// writeRPCError answers with a JSON-RPC 2.0 error response.
func writeRPCError(w http.ResponseWriter, status int, id jsonrpc.ID, e *jsonrpc.Error) {
	body, err := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: id, Error: e})
	if err != nil {
		panic("server: encode JSON-RPC error: " + err.Error())
	}
	if !id.IsValid() { // the encoder leaves a missing id out; JSON-RPC wants null
		body = bytes.Replace(body, []byte(`{"jsonrpc":"2.0",`), []byte(`{"jsonrpc":"2.0","id":null,`), 1)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// rpcErrorWriter turns a plain-text error the MCP SDK writes into a JSON-RPC error object
// carrying the same text (finish writes it), so no response on /mcp is plain text.
type rpcErrorWriter struct {
	http.ResponseWriter
	id      jsonrpc.ID
	status  int // of a plain-text error held back
	message []byte
}

func (w *rpcErrorWriter) WriteHeader(status int) {
	if status >= 400 && mediaType(w.Header().Get("Content-Type")) == "text/plain" {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rpcErrorWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		return w.ResponseWriter.Write(b)
	}
	if len(w.message) < 1024 {
		w.message = append(w.message, b[:min(len(b), 1024-len(w.message))]...)
	}
	return len(b), nil
}

// finish writes the JSON-RPC error for a plain-text error held back.
func (w *rpcErrorWriter) finish() {
	if w.status == 0 {
		return
	}
	code := int64(jsonrpc.CodeInvalidRequest)
	if w.status >= 500 {
		code = jsonrpc.CodeInternalError
	}
	writeRPCError(w.ResponseWriter, w.status, w.id, &jsonrpc.Error{Code: code, Message: strings.TrimSpace(string(w.message))})
}

func (w *rpcErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status == 0 {
		f.Flush()
	}
}

func (w *rpcErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
