// Drives a Relm server through the official MCP TypeScript SDK: a second, independent
// client. The SDK validates every structuredContent against the tool's outputSchema, so a
// result that drifts from its published schema fails here. Usage: RELM_URL=… RELM_KEY=… node client.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

// Every tool, with its output schema: the default set (/mcp alone) lists none.
const url = new URL(process.env.RELM_URL + "/mcp?toolsets=all");
const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${process.env.RELM_KEY}` } },
});
const client = new Client({ name: "relm-ts-interop", version: "1.0.0" });
await client.connect(transport);

const { tools } = await client.listTools();
const names = new Set(tools.map((t) => t.name));
for (const t of tools) {
  if (!t.outputSchema || !t.inputSchema || !t.annotations) throw new Error(`${t.name}: missing schema or annotations`);
}

let calls = 0;
async function call(name, args) {
  calls++;
  const res = await client.callTool({ name, arguments: args }); // validates structuredContent
  if (res.isError) throw new Error(`${name} failed: ${res.content[0].text}`);
  if (JSON.stringify(res.structuredContent) !== JSON.stringify(JSON.parse(res.content[0].text))) {
    throw new Error(`${name}: structuredContent differs from the text content`);
  }
  return res.structuredContent;
}

const company = await call("create_company", { name: "Interop Ltd", domain: "interop.example" });
const contact = await call("create_contact", { email: "ts@interop.example", first_name: "Tess", company_id: company.id });
await call("get_contact", { id: contact.id });
await call("update_contact", { id: contact.id, phone: "+14155550100", last_name: null });
await call("list_contacts", { filter: { email: "TS@interop.example" } });
const deal = await call("create_deal", { title: "Interop deal", value_cents: 120000, company_id: company.id, primary_contact_id: contact.id });
await call("move_deal_stage", { id: deal.id, stage: "won" });
await call("list_deals", { stage: "won", filter: { value_cents: { gte: 1000 } } });
await call("log_activity", { type: "call", subject: "Kickoff", contact_id: contact.id, deal_id: deal.id });
await call("list_activities", { contact_id: contact.id });
// Field selection: selected results still match the tools' outputSchemas.
const picked = await call("get_contact", { id: contact.id, fields: ["email", "recent_activities"] });
if (Object.keys(picked).sort().join() !== "email,id,object,recent_activities") throw new Error(`get_contact fields: ${JSON.stringify(picked)}`);
const names2 = await call("list_contacts", { fields: ["first_name"] });
if (Object.keys(names2.data[0]).sort().join() !== "first_name,id,object") throw new Error(`list_contacts fields: ${JSON.stringify(names2)}`);
await call("search", { q: "tess" });
await call("list_events", { type: "deal.stage_changed" });
for (const optional of ["get_usage", "list_pipelines", "get_schema", "list_custom_fields", "list_request_logs", "list_api_keys"]) {
  if (names.has(optional)) await call(optional, {});
}

// A failed call is isError with the REST error body and no structuredContent.
const miss = await client.callTool({ name: "get_contact", arguments: { id: "con_aaaaaaaaaaaaaaaaaaaaaaaaaa" } });
if (!miss.isError || miss.structuredContent !== undefined || JSON.parse(miss.content[0].text).error.code !== "not_found") {
  throw new Error(`missing contact: ${JSON.stringify(miss)}`);
}

await client.close();
console.log(JSON.stringify({ ok: true, tools: tools.length, calls, protocol: transport.protocolVersion ?? null }));
