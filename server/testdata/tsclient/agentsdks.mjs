// Loads a Relm server's MCP tools with three agent frameworks, as their users would, and
// turns each tool into the function declaration every provider would receive, then checks
// that declaration against the provider's published rules (server/agentsdks_test.go):
//
//   - Vercel AI SDK: @ai-sdk/mcp's client, then generateText with @ai-sdk/openai,
//     @ai-sdk/anthropic and @ai-sdk/google models;
//   - LangChain: @langchain/mcp-adapters, then bindTools on ChatOpenAI, ChatAnthropic and
//     ChatGoogleGenerativeAI;
//   - OpenAI Agents SDK: MCPServerStreamableHttp and getAllMcpTools with
//     convertSchemasToStrict, as an Agent would.
//
// No request leaves the process: each provider gets a fake fetch that keeps the request body
// (exactly what the SDK would send) and fails the call. One request per tool, so a failure
// names its tool.
//
// Usage: RELM_MCP_URL=http://host:port/mcp?toolsets=… RELM_KEY=sk_… node agentsdks.mjs
// Prints {"tools": [names], "not_strict": [names], "checked": {"library/provider": count},
// "failures": [{tool, library, provider, reason}]}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMCPClient } from '@ai-sdk/mcp';
import { generateText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { ChatOpenAI } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { MCPServerStreamableHttp, getAllMcpTools } from '@openai/agents-core';
import { checkIssue, checkOpenAI, checkAnthropic, checkGemini, selfCheck } from './providerrules.mjs';

const url = process.env.RELM_MCP_URL;
// LangSmith tracing, if the environment turns it on, would post through the fake fetch too.
process.env.LANGSMITH_TRACING = process.env.LANGCHAIN_TRACING_V2 = 'false';
const headers = { Authorization: `Bearer ${process.env.RELM_KEY}` };

const failures = [];
const checked = {};
function record(library, provider, tool, problems) {
  const key = `${library}/${provider}`;
  checked[key] = (checked[key] ?? 0) + 1;
  for (const reason of problems) failures.push({ tool, library, provider, reason });
}

// captured runs send (which makes one provider request) with fetch replaced by a fake that
// keeps the request body and then fails; it returns the parsed body.
async function captured(send) {
  let body;
  const fake = async (_url, init) => {
    body = JSON.parse(init.body);
    throw new Error('request captured, not sent');
  };
  const real = globalThis.fetch;
  globalThis.fetch = fake; // @google/generative-ai (under ChatGoogleGenerativeAI) takes no fetch option
  try {
    await send(fake);
  } catch (err) {
    if (body === undefined) throw err;
  } finally {
    globalThis.fetch = real;
  }
  if (body === undefined) throw new Error('no request was sent');
  return body;
}

// attempt runs one conversion of one tool, recording a thrown error as its failure.
async function attempt(library, provider, tool, fn) {
  try {
    record(library, provider, tool, await fn());
  } catch (err) {
    record(library, provider, tool, [`conversion failed: ${err?.message ?? err}`]);
  }
}

for (const reason of selfCheck()) failures.push({ tool: '', library: 'providerrules', provider: '', reason });

// --- The tools as published: the issue's own rules. ---
const mcp = new Client({ name: 'relm-agentsdks', version: '1.0.0' });
await mcp.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
const { tools: published } = await mcp.listTools();
await mcp.close();
for (const t of published) record('mcp', 'tools/list', t.name, checkIssue(t));

// --- Vercel AI SDK ---
const ai = await createMCPClient({ transport: { type: 'http', url, headers } });
const aiTools = await ai.tools();
await ai.close();
const aiModels = {
  openai: (fetch) => createOpenAI({ apiKey: 'test', fetch })('gpt-4.1'),
  anthropic: (fetch) => createAnthropic({ apiKey: 'test', fetch })('claude-sonnet-4-5'),
  google: (fetch) => createGoogleGenerativeAI({ apiKey: 'test', fetch })('gemini-2.5-flash'),
};
for (const name of Object.keys(aiTools)) {
  for (const [provider, model] of Object.entries(aiModels)) {
    await attempt('ai-sdk', provider, name, async () => {
      const body = await captured((fetch) =>
        generateText({ model: model(fetch), tools: { [name]: aiTools[name] }, prompt: 'hi', maxRetries: 0 }));
      return checkProvider(provider, name, body);
    });
  }
}

// --- LangChain ---
const lc = new MultiServerMCPClient({ mcpServers: { relm: { transport: 'http', url, headers } }, throwOnLoadError: true });
const lcTools = await lc.getTools();
await lc.close();
const lcModels = {
  openai: (fetch) => new ChatOpenAI({ apiKey: 'test', model: 'gpt-4.1', maxRetries: 0, configuration: { fetch } }),
  anthropic: (fetch) => new ChatAnthropic({ apiKey: 'test', model: 'claude-sonnet-4-5', maxRetries: 0, clientOptions: { fetch } }),
  google: () => new ChatGoogleGenerativeAI({ apiKey: 'test', model: 'gemini-2.5-flash', maxRetries: 0 }),
};
for (const tool of lcTools) {
  for (const [provider, model] of Object.entries(lcModels)) {
    await attempt('langchain', provider, tool.name, async () => {
      const body = await captured((fetch) => model(fetch).bindTools([tool]).invoke('hi'));
      return checkProvider(provider, tool.name, body);
    });
  }
}

// --- OpenAI Agents SDK ---
const server = new MCPServerStreamableHttp({ url, name: 'relm', requestInit: { headers } });
await server.connect();
const warn = console.warn;
console.warn = () => {}; // "Error converting MCP schema to strict mode", once per non-strict tool
const agentTools = await getAllMcpTools({ mcpServers: [server], convertSchemasToStrict: true });
console.warn = warn;
await server.close();
const notStrict = [];
for (const t of agentTools) {
  if (!t.strict) notStrict.push(t.name); // server/strict_test.go holds which, and why
  record('openai-agents', 'openai', t.name, checkOpenAI({ name: t.name, parameters: t.parameters, strict: t.strict }));
}

// Every library must have loaded every published tool.
const names = published.map((t) => t.name);
const loaded = {
  'ai-sdk': Object.keys(aiTools),
  langchain: lcTools.map((t) => t.name),
  'openai-agents': agentTools.map((t) => t.name),
};
for (const [library, got] of Object.entries(loaded)) {
  for (const name of names) {
    if (!got.includes(name)) failures.push({ tool: name, library, provider: '', reason: 'not loaded' });
  }
}

console.log(JSON.stringify({ tools: names, not_strict: notStrict, checked, failures }));

// checkProvider finds tool's declaration in a captured request body of provider and checks it.
function checkProvider(provider, tool, body) {
  switch (provider) {
    case 'openai': {
      // The Responses API (AI SDK) lists {type, name, parameters, strict}; Chat Completions
      // (LangChain) nests them under function.
      const decl = (body.tools ?? []).map((t) => t.function ?? t).find((t) => t.name === tool);
      return decl ? checkOpenAI(decl) : ['not in the request'];
    }
    case 'anthropic': {
      const decl = (body.tools ?? []).find((t) => t.name === tool);
      return decl ? checkAnthropic(decl) : ['not in the request'];
    }
    case 'google': {
      const decl = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? t.function_declarations ?? [])
        .find((t) => t.name === tool);
      return decl ? checkGemini(decl) : ['not in the request'];
    }
  }
  throw new Error(`unknown provider ${provider}`);
}
