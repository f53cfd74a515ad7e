// Connects to Relm's /mcp with the official MCP TypeScript SDK's OAuth client
// (dashboard/oauth_ts_test.go): discovery from the 401, dynamic registration, the consent
// page (played here as the signed-in person's browser, with their session cookie), the code
// exchange with PKCE, a tool call, then a refresh whose new access token works over REST.
// Prints {"ok": true, …} on success; throws otherwise.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, discoverAuthorizationServerMetadata, refreshAuthorization } from "@modelcontextprotocol/sdk/client/auth.js";

const base = process.env.RELM_URL;
const cookie = process.env.RELM_COOKIE;
const redirectUrl = "http://127.0.0.1:9/callback";
const mcpUrl = new URL("/mcp", base);

let clientInfo, tokens, verifier, code;
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return { redirect_uris: [redirectUrl], client_name: "TypeScript SDK test client", token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  },
  clientInformation() { return clientInfo; },
  saveClientInformation(info) { clientInfo = info; },
  tokens() { return tokens; },
  saveTokens(t) { tokens = t; },
  saveCodeVerifier(v) { verifier = v; },
  codeVerifier() { return verifier; },
  async redirectToAuthorization(url) { code = await consent(url); },
};

// unescape undoes html/template's escaping of an attribute value.
function unescape(s) {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// consent opens the consent page as the signed-in person, allows read and write in test
// mode, and returns the code from the redirect back to the client.
async function consent(url) {
  const page = await fetch(url, { headers: { cookie }, redirect: "manual" });
  const html = await page.text();
  if (page.status !== 200 || !html.includes("unverified") || !html.includes("TypeScript SDK test client")) {
    throw new Error(`consent page: ${page.status}\n${html}`);
  }
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1], unescape(m[2]));
  form.set("workspace_id", html.match(/<option value="(ws_[^"]+)" selected>/)[1]);
  form.set("mode", "test");
  form.set("access", "write");
  form.set("decision", "allow");
  const res = await fetch(new URL("/oauth/authorize", base), { method: "POST", body: form, redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
  if (res.status !== 303) throw new Error(`consent: ${res.status} ${await res.text()}`);
  const back = new URL(res.headers.get("location"));
  if (back.searchParams.get("iss") !== base || !back.searchParams.get("code")) throw new Error(`redirect back: ${back}`);
  return back.searchParams.get("code");
}

let transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
try {
  await new Client({ name: "relm-ts-oauth", version: "1" }).connect(transport);
  throw new Error("connected without authorization");
} catch (e) {
  if (!(e instanceof UnauthorizedError)) throw e;
}
await transport.finishAuth(code);

transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
const client = new Client({ name: "relm-ts-oauth", version: "1" });
await client.connect(transport);
const created = await client.callTool({ name: "create_contact", arguments: { email: "ts-oauth@example.com" } });
if (created.isError) throw new Error(`create_contact: ${JSON.stringify(created)}`);
await client.close();

const metadata = await discoverAuthorizationServerMetadata(base);
const fresh = await refreshAuthorization(base, { metadata, clientInformation: clientInfo, refreshToken: tokens.refresh_token, resource: mcpUrl });
if (fresh.access_token === tokens.access_token || fresh.refresh_token === tokens.refresh_token) throw new Error("refresh did not rotate");
const res = await fetch(new URL("/v1/contacts?email=ts-oauth@example.com", base), { headers: { authorization: `Bearer ${fresh.access_token}` } });
const body = await res.json();
if (res.status !== 200 || body.data.length !== 1) throw new Error(`REST with the refreshed token: ${res.status} ${JSON.stringify(body)}`);
console.log(JSON.stringify({ ok: true, scope: tokens.scope, client_id: clientInfo.client_id }));
