package server

import (
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// plainRequestSamples are messages parsePlainRequest reads itself or leaves to the SDK.
var plainRequestSamples = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_contact","arguments":{"id":"con_1"}}}`,
	`{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"get_contact"}}`,
	`{"jsonrpc":"2.0","id":-7,"method":"tools/call","params":{"name":"x","arguments":{},"_meta":{}}}`,
	`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}`,
	`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1e3,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":007,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":true,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":"a\"b","method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":""}`,
	`{"jsonrpc":"2.0","id":1,"method":null}`,
	`{"jsonrpc":"2.0","id":1,"method":"to\u006fls/list"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}`,
	`{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`,
	`{"jsonrpc":"1.0","id":1,"method":"ping"}`,
	`{"JSONRPC":"2.0","id":1,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"Method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","error":5}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}`,
	`{"jsonrpc":"2.0","id":1,"result":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"} trailing`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":"\xff"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":` + strings.Repeat("[", 990) + strings.Repeat("]", 990) + `}}`,
}

// TestParsePlainRequestAgreesWithSDK checks that a message the fast path reads is one the
// SDK's decoder reads the same way.
func TestParsePlainRequestAgreesWithSDK(t *testing.T) {
	read := 0
	for _, s := range plainRequestSamples {
		if checkPlainRequest(t, []byte(s)) {
			read++
		}
	}
	if read < 6 {
		t.Errorf("the fast path read %d samples, want at least 6", read)
	}
}

func FuzzParsePlainRequest(f *testing.F) {
	for _, s := range plainRequestSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkPlainRequest(t, body) })
}

// checkPlainRequest compares the fast path with the SDK's decoder on body, reporting
// whether the fast path read it.
func checkPlainRequest(t *testing.T, body []byte) bool {
	t.Helper()
	msg, id, ok := parsePlainRequest(body)
	if !ok {
		return false
	}
	decoded, err := jsonrpc.DecodeMessage(body)
	if err != nil {
		t.Fatalf("%s: the fast path read what the SDK refuses (%v)", body, err)
	}
	req, isReq := decoded.(*jsonrpc.Request)
	if !isReq {
		t.Fatalf("%s: the fast path read a request where the SDK read %T", body, decoded)
	}
	if req.Method != msg.Method || !reflect.DeepEqual(req.ID.Raw(), id.Raw()) || req.IsCall() != msg.Call {
		t.Fatalf("%s: fast path method %q id %#v call %v, SDK %q %#v %v", body, msg.Method, id.Raw(), msg.Call, req.Method, req.ID.Raw(), req.IsCall())
	}
	slow, _, rpcErr := parseMCPMessageSDK(body)
	if rpcErr != nil || !reflect.DeepEqual(slow, msg) {
		t.Fatalf("%s: fast path %#v, SDK path %#v (%v)", body, msg, slow, rpcErr)
	}
	return true
}
