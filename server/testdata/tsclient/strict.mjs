// Reads an MCP tools/list result's tools (a JSON array) on stdin and prints which of them the
// OpenAI Agents SDK converts to strict function schemas (mcpToFunctionTool with
// convertSchemasToStrict), and why the others are not: {"strict": [...], "not_strict": {name: reason}}.
import { mcpToFunctionTool } from '@openai/agents-core';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = { strict: [], not_strict: {} };
const warn = console.warn;
for (const tool of JSON.parse(input)) {
  let reason = '';
  console.warn = (...args) => { reason = args.map(String).join(' '); };
  const converted = mcpToFunctionTool(tool, { name: 'relm' }, true);
  console.warn = warn;
  if (converted.strict) out.strict.push(tool.name);
  else out.not_strict[tool.name] = reason || 'not strict';
}
console.log(JSON.stringify(out));
