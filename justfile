# Relm's everyday commands. Each wraps a plain `go` command that works without just.

# Run the server (private PostgreSQL cluster unless RELM_DATABASE_URL is set)
run *args:
    go run ./cmd/relm serve {{args}}

# Run every test against a real PostgreSQL
test *args:
    go test ./... {{args}}

# Formatting and static checks, as CI runs them
lint:
    test -z "$(gofmt -l .)" || (gofmt -l . && exit 1)
    go vet ./...

# Lint the OpenAPI document with Redocly and Spectral, as CI does (needs Node and npm)
lint-openapi:
    cd .ci/openapi-lint && npm ci --no-audit --no-fund --loglevel=error
    go run ./cmd/relm openapi > .ci/openapi-lint/openapi.yaml
    cd .ci/openapi-lint && npx --no-install redocly lint --config redocly.yaml openapi.yaml && npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi.yaml

# Replay eval transcripts (default: the built-in suite), each in a fresh test workspace
eval *args:
    go run ./cmd/relm eval {{args}}

# Rewrite the golden files (one tools/list snapshot per tool, openapi.yaml, docs/tools.md, llms.txt, the eval transcript schema; no database needed) after an intended contract change; review the diff
update-golden:
    go test ./server -run Golden -update
    go test ./docsite -run Golden -update
    go generate ./evals

# Fuzz the input parsers for a while (cursors, alone and through the list routes; bearer header; JSON arguments; webhook URLs and signatures; sealed secrets)
fuzz time="30s":
    go test ./tools -run '^$' -fuzz FuzzOpenCursor -fuzztime {{time}}
    go test ./server -run '^$' -fuzz FuzzCursorRoute -fuzztime {{time}} -parallel 1
    go test ./auth -run '^$' -fuzz FuzzParseBearer -fuzztime {{time}}
    go test ./tools -run '^$' -fuzz FuzzDecodeArgs -fuzztime {{time}}
    go test ./webhooks -run '^$' -fuzz FuzzCheckURL -fuzztime {{time}}
    go test ./webhooks -run '^$' -fuzz FuzzVerify -fuzztime {{time}}
    go test ./secrets -run '^$' -fuzz FuzzOpen -fuzztime {{time}}

# Seed 1M contacts, measure REST, MCP and raw SQL against a relm serve, import, search and webhooks (writes docs/performance.md)
bench contacts="1000000" *args:
    go run ./cmd/relm bench --contacts {{contacts}} --out docs/performance.md {{args}}

# Fuzz the filter language
fuzz-filter time="30s":
    go test ./tools -run '^$' -fuzz '^FuzzFilterFromQuery$' -fuzztime {{time}}
    go test ./store/filter -run '^$' -fuzz FuzzCompile -fuzztime {{time}}

# Print the OpenAPI document
openapi:
    go run ./cmd/relm openapi
