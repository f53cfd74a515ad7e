// End-to-end run of the dashboard in headless Chromium (dashboard/e2e_test.go starts the
// server and runs this script; issue 18). Debian's chromium is driven through
// playwright-core, so nothing downloads a browser.
//
// Environment:
//   RELM_URL        the server, such as http://127.0.0.1:PORT (required)
//   RELM_MAIL_DIR   where the server writes its mail as .eml files (required)
//   RELM_ARTIFACTS  where screenshots go (required)
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
//
// The run is a list of named steps (STEPS, below), each a small async function of a shared
// context; they run in order and share the browser session and `ctx.state`. A step calls
// `ctx.visited(label)` after each page it reaches: that takes a full-page screenshot
// NN-step-label.png and runs an axe accessibility scan, which fails the run on any
// violation of impact "serious" or "critical". Any failure screenshots the page as
// NN-step-FAILED.png, prints what went wrong and exits 1.
//
// To add a step: write `async function myStep(ctx) { ... }` and add it to STEPS with its
// name; list in `needs` the environment variables it cannot run without (it is skipped,
// saying so, when one is missing).

import { chromium } from "playwright-core";
import { readFile, readdir, stat, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env("RELM_URL").replace(/\/$/, "");
const MAIL_DIR = env("RELM_MAIL_DIR");
const ARTIFACTS = env("RELM_ARTIFACTS");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// ---------------------------------------------------------------------------------------
// Steps

const STEPS = [
  { name: "email-code-sign-in", run: emailCodeSignIn },
  { name: "create-workspace", run: createWorkspace },
  { name: "api-key-and-rest", run: apiKeyAndREST },
  { name: "webhook-endpoint", run: webhookEndpoint, needs: ["RELM_WEBHOOK_URL"] },
  { name: "deal-board", run: dealBoard },
  { name: "webhook-delivery-and-replay", run: webhookDelivery, needs: ["RELM_WEBHOOK_URL"] },
  { name: "custom-field", run: customField },
  { name: "every-page", run: everyPage },
  { name: "oauth-consent", run: oauthConsent },
  { name: "sign-out", run: signOut },
  { name: "google-sign-in", run: googleSignIn, needs: ["RELM_GOOGLE_EMAIL"] },
];

// Open /, land on /signin, ask for a code, read it from the mail and sign in with it.
async function emailCodeSignIn(ctx) {
  const { page, state } = ctx;
  state.email = `e2e-${Date.now()}@example.com`;
  await page.goto(BASE + "/");
  await expectPath(page, "/signin");
  await ctx.visited("signin");

  const asked = Date.now();
  await page.getByLabel("Email address").fill(state.email);
  await page.getByRole("button", { name: "Email me a sign-in code" }).click();
  await page.getByText("We sent a 6-digit code to").waitFor();
  await ctx.visited("code");

  const code = await codeFromMail(state.email, asked);
  await page.getByLabel("Sign-in code").fill(code);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // A new user belongs to no workspace: they land on /workspaces to make one.
  await expectPath(page, "/workspaces");
  await page.getByText(state.email).first().waitFor();
  await ctx.visited("workspaces");
}

// Create a workspace; it opens on its contacts, in test mode.
async function createWorkspace(ctx) {
  const { page, state } = ctx;
  state.workspace = "E2E Workspace";
  await page.getByLabel("Name", { exact: true }).fill(state.workspace);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expectPath(page, "/contacts");
  assert.equal((await page.getByTestId("mode").textContent()).trim(), "test mode");
  await ctx.visited("contacts");
}

// Create a test key on the API keys page, use it over REST from Node, and see the contact
// made over REST in the browser.
async function apiKeyAndREST(ctx) {
  const { page, state } = ctx;
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "API keys" }).click();
  await expectPath(page, "/api-keys");
  await ctx.visited("api-keys");

  // The "Create a key" form's Mode, not the header's workspace switcher's.
  const createForm = page.locator("form", { has: page.getByRole("heading", { name: "Create a key" }) });
  await createForm.getByLabel("Mode").selectOption("test");
  await createForm.getByRole("button", { name: "Create key" }).click();
  const secretBox = page.getByTestId("new-secret");
  await secretBox.waitFor();
  state.secret = await secretBox.inputValue();
  assert.match(state.secret, /^sk_test_/, "the new key's secret");
  await ctx.visited("new-key");

  const list = await rest("GET", "/v1/contacts", state.secret);
  assert.equal(list.status, 200, `GET /v1/contacts: ${list.status} ${list.text}`);
  const made = await rest("POST", "/v1/contacts", state.secret,
    { first_name: "Rest", last_name: "Made", email: "rest-made@example.com" });
  assert.ok(made.status === 200 || made.status === 201, `POST /v1/contacts: ${made.status} ${made.text}`);

  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Contacts" }).click();
  await expectPath(page, "/contacts");
  await page.getByRole("cell", { name: "rest-made@example.com" }).waitFor();
  await ctx.visited("contacts-with-rest-contact");

  // The key shows it was used.
  await page.goto(BASE + "/api-keys");
  const row = page.getByRole("row").filter({ hasText: state.secret.slice(-4) });
  assert.notEqual((await row.textContent()).includes("never"), true, "the key's last use is shown");
}

// Connect an OAuth client as Claude would (docs/oauth.md): register it, open the
// authorization URL, click Allow on the real consent page and follow Chromium back to the
// client's redirect URI (which the consent page's CSP form-action must let it reach), then
// exchange the code and use the token; Connected apps lists the client and revokes it.
async function oauthConsent(ctx) {
  const { page, state } = ctx;
  const callback = "http://127.0.0.1:8976/callback"; // nothing listens: page.route answers
  const reg = await fetch(BASE + "/oauth/register", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ redirect_uris: [callback], token_endpoint_auth_method: "none", client_name: "E2E Connector" }) });
  assert.equal(reg.status, 201, `register: ${reg.status}`);
  const { client_id: clientID } = await reg.json();
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = new URL(BASE + "/oauth/authorize");
  for (const [k, v] of Object.entries({ response_type: "code", client_id: clientID, redirect_uri: callback, state: "e2e-state",
    code_challenge: challenge, code_challenge_method: "S256", resource: BASE + "/mcp", scope: "read write" })) {
    authorize.searchParams.set(k, v);
  }
  let back;
  await page.route(callback + "**", (route) => {
    back = new URL(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/plain", body: "back at the client" });
  });
  await page.goto(authorize.href);
  await expectPath(page, "/oauth/authorize");
  await page.getByTestId("unverified").waitFor();
  assert.equal((await page.getByTestId("client-name").textContent()).trim(), "E2E Connector");
  assert.equal((await page.getByTestId("redirect-host").textContent()).trim(), "127.0.0.1:8976");
  await ctx.visited("consent");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((u) => u.href.startsWith(callback));
  await page.unroute(callback + "**");
  assert.ok(back, "Chromium did not go back to the client");
  assert.equal(back.searchParams.get("state"), "e2e-state");
  assert.equal(back.searchParams.get("iss"), BASE);

  const tok = await fetch(BASE + "/oauth/token", { method: "POST", body: new URLSearchParams({ grant_type: "authorization_code",
    code: back.searchParams.get("code"), redirect_uri: callback, code_verifier: verifier, client_id: clientID, resource: BASE + "/mcp" }) });
  const tokens = await tok.json();
  assert.equal(tok.status, 200, `token: ${tok.status} ${JSON.stringify(tokens)}`);
  assert.equal((await rest("GET", "/v1/contacts", tokens.access_token)).status, 200, "REST with the access token");

  await page.goto(BASE + "/apps");
  const row = page.getByRole("row").filter({ hasText: "E2E Connector" });
  await row.waitFor();
  await ctx.visited("connected-apps");
  await row.getByRole("button", { name: /Revoke E2E Connector/ }).click();
  await page.getByText("Disconnected").waitFor();
  assert.equal((await rest("GET", "/v1/contacts", tokens.access_token)).status, 401, "REST after the app was revoked");
  state.oauthClient = clientID;
}

// Sign out from the header; the workspace's pages then ask to sign in again.
async function signOut(ctx) {
  const { page } = ctx;
  await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
  await page.getByText("Signed out.").waitFor();
  await ctx.visited("signed-out");
  await page.goto(BASE + "/contacts");
  await expectPath(page, "/signin");
}

// Subscribe an endpoint (the test's receiver) to deal stage changes; its secret shows once.
async function webhookEndpoint(ctx) {
  const { page } = ctx;
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Webhooks" }).click();
  await expectPath(page, "/webhooks");
  await page.getByLabel("URL").fill(process.env.RELM_WEBHOOK_URL);
  await page.getByLabel(/^Events/).fill("deal.stage_changed");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const secret = await page.getByLabel("Signing secret").inputValue();
  assert.match(secret, /^whsec_/, "the new endpoint's signing secret is shown");
  await ctx.visited("endpoint-created");
}

// The board's moves made deal.stage_changed deliveries: they appear on /webhooks (the list
// refreshes itself while any is pending) and one is replayed from its page.
async function webhookDelivery(ctx) {
  const { page } = ctx;
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Webhooks" }).click();
  const deliveries = page.locator("#deliveries");
  await deliveries.getByRole("link", { name: "deal.stage_changed" }).first().waitFor();
  await page.locator('#deliveries[data-pending="false"]').waitFor({ timeout: 30_000 });
  assert.ok((await deliveries.getByText("succeeded").count()) >= 2, "both moves were delivered");
  await ctx.visited("deliveries");
  await deliveries.getByRole("link", { name: "deal.stage_changed" }).first().click();
  await page.getByTestId("delivery-status").waitFor();
  await page.getByRole("cell", { name: "200", exact: true }).first().waitFor();
  await page.getByRole("button", { name: "Replay" }).click();
  await page.getByText("Replay sent").waitFor();
  // The replay's attempt appears without a reload (the attempts refresh while one is awaited).
  await page.getByRole("row").filter({ has: page.getByRole("cell", { name: "2", exact: true }) }).first().waitFor({ timeout: 30_000 });
  await ctx.visited("delivery-replayed");
}

// Create a select custom field on /schema; it is listed, then usable on a contact.
async function customField(ctx) {
  const { page } = ctx;
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Schema" }).click();
  await expectPath(page, "/schema");
  await ctx.visited("schema");
  const form = page.locator("form", { has: page.getByRole("button", { name: "Create field" }) });
  await form.getByLabel("Kind of record").selectOption("contact");
  await form.getByLabel(/^Key/).fill("tier");
  await form.getByLabel("Label", { exact: true }).fill("Tier");
  await form.getByLabel("Type", { exact: true }).selectOption("select");
  await form.getByLabel(/^Options/).fill("gold, silver");
  await page.getByRole("button", { name: "Create field" }).click();
  await page.getByText("Custom field created.").waitFor();
  await page.getByTestId("field-contact-tier").waitFor();
  await ctx.visited("field-created");
  const bad = await rest("POST", "/v1/contacts", ctx.state.secret, { email: "tiered@example.com", metadata: { tier: "bronze" } });
  assert.equal(bad.status, 422, `a value outside the field's options: ${bad.status} ${bad.text}`);
  const good = await rest("POST", "/v1/contacts", ctx.state.secret, { email: "tiered@example.com", metadata: { tier: "gold" } });
  assert.ok(good.status === 200 || good.status === 201, `a valid tier: ${good.status} ${good.text}`);
}

// Every page of the navigation, and a record's page, screenshotted and scanned.
async function everyPage(ctx) {
  const { page } = ctx;
  const nav = page.getByRole("navigation", { name: "Workspace" });
  const names = await nav.getByRole("link").allTextContents();
  for (const name of names) {
    await nav.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1 }).waitFor();
    await ctx.visited(name.toLowerCase().replace(/[^a-z]+/g, "-"));
  }
  await nav.getByRole("link", { name: "Contacts", exact: true }).click();
  await page.getByRole("link", { name: "Rest Made" }).first().click();
  await page.getByRole("button", { name: "Save" }).waitFor();
  await ctx.visited("a-contact");
}

// Create a deal, then move it on the board: by dragging its card to the next column, and by
// keyboard with its "move to stage" select and button.
async function dealBoard(ctx) {
  const { page } = ctx;
  const nav = page.getByRole("navigation", { name: "Workspace" });
  await nav.getByRole("link", { name: "Deals" }).click();
  await expectPath(page, "/deals");
  await page.getByLabel("Title (required)").fill("E2E deal");
  await page.getByRole("button", { name: "Create deal" }).click();
  await page.getByRole("link", { name: "E2E deal" }).first().waitFor();
  await nav.getByRole("link", { name: "Deal board" }).click();
  await expectPath(page, "/board");
  await ctx.visited("board");

  const columns = page.locator("[data-stage]");
  const card = () => page.locator("[data-deal]").filter({ hasText: "E2E deal" });
  assert.equal(await columns.nth(0).locator("[data-deal]").filter({ hasText: "E2E deal" }).count(), 1, "the new deal is in the first stage");
  // Grab the card by its corner: its middle is the stage select, which does not drag.
  await card().dragTo(columns.nth(1), { sourcePosition: { x: 6, y: 6 } });
  await page.getByText("Moved E2E deal.").waitFor();
  assert.equal(await columns.nth(1).locator("[data-deal]").filter({ hasText: "E2E deal" }).count(), 1, "dragged to the second stage");
  await ctx.visited("board-after-drag");

  // The keyboard path: focus the card's stage select, choose the third stage, Tab to Move, Enter.
  const third = await columns.nth(2).getAttribute("data-stage");
  const select = card().getByRole("combobox");
  await select.focus();
  await select.selectOption(third);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.getByText("Moved E2E deal.").waitFor();
  assert.equal(await columns.nth(2).locator("[data-deal]").filter({ hasText: "E2E deal" }).count(), 1, "moved by keyboard to the third stage");
  await ctx.visited("board-after-keyboard-move");
}

// Sign in with Google through the fake OpenID Connect issuer's account chooser (signed out).
async function googleSignIn(ctx) {
  const { page } = ctx;
  const email = process.env.RELM_GOOGLE_EMAIL;
  await page.goto(BASE + "/signin");
  await page.getByRole("link", { name: "Sign in with Google" }).click();
  await page.getByRole("button", { name: `Continue as ${email}` }).click();
  await expectPath(page, "/workspaces");
  await page.getByRole("banner").getByText(email).waitFor();
  await ctx.visited("signed-in-with-google");
}

// ---------------------------------------------------------------------------------------
// Helpers for steps

// expectPath waits until the page is at path (redirects done).
async function expectPath(page, path) {
  await page.waitForURL((u) => u.pathname === path, { timeout: 15_000 }).catch(() => {
    throw new Error(`expected to be at ${path}, but the page is at ${page.url()}`);
  });
}

// codeFromMail is the sign-in code of the newest mail to address written at or after since
// (ms), waiting up to 10 s for it. The body has the code alone on a line, indented 4 spaces.
async function codeFromMail(address, since) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mails = [];
    for (const name of await readdir(MAIL_DIR)) {
      if (!name.endsWith(".eml")) continue;
      const file = join(MAIL_DIR, name);
      const { mtimeMs } = await stat(file);
      mails.push({ name, file, mtimeMs });
    }
    mails.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : -1)); // newest first
    for (const m of mails) {
      if (m.mtimeMs < since - 1000) break; // older than the request (1 s for coarse clocks)
      const text = await readFile(m.file, "utf8");
      if (!new RegExp(`^To: ${escapeRE(address)}\\r?$`, "mi").test(text)) continue;
      const code = text.match(/^ {4}(\d{6})\r?$/m);
      if (!code) throw new Error(`no 6-digit code in ${m.file}:\n${text}`);
      return code[1];
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${address} in ${MAIL_DIR}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const escapeRE = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// rest calls the REST API from Node with an API key.
async function rest(method, path, key, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body && { "Content-Type": "application/json" }) },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

// ---------------------------------------------------------------------------------------
// The runner

const axeSource = await readFile(AXE_PATH, "utf8");
let shot = 0;
const nn = () => String(++shot).padStart(2, "0");

// scan runs axe on the page and throws on serious or critical violations.
async function scan(page, where) {
  // The dashboard's CSP is script-src 'self': page.addScriptTag would add an inline or
  // non-self script the page refuses. page.evaluate runs through the DevTools protocol,
  // which CSP does not govern, so evaluating axe's source defines window.axe without
  // weakening the page (as bypassCSP: true on the context would, for every script).
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.evaluate(axeSource);
  }
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = [];
  for (const v of results.violations) {
    const line = `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
      v.nodes.map((n) => `      ${n.target.join(" ")}\n        ${n.failureSummary.replace(/\n/g, "\n        ")}`).join("\n");
    if (v.impact === "serious" || v.impact === "critical") bad.push(line);
    else console.log(`    axe note at ${where}: ${line}`);
  }
  if (bad.length) {
    throw new Error(`axe found ${bad.length} serious or critical violation(s) at ${where} (${page.url()}):\n    ` + bad.join("\n    "));
  }
}

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err));
  page.on("console", (msg) => {
    if (msg.type() === "error") console.log(`    browser console error: ${msg.text()}`);
  });

  let current = "";
  const ctx = {
    browser, context, page,
    state: {}, // what steps share: email, workspace, secret, ...
    base: BASE,
    async visited(label) {
      const name = `${nn()}-${current}${label ? "-" + label : ""}`;
      await page.screenshot({ path: join(ARTIFACTS, name + ".png"), fullPage: true });
      await scan(page, name);
      console.log(`    ${name}: ${new URL(page.url()).pathname} ok`);
    },
  };

  const started = Date.now();
  try {
    for (const step of STEPS) {
      current = step.name;
      const missing = (step.needs || []).filter((n) => !process.env[n]);
      if (missing.length) {
        console.log(`step ${step.name}: skipped, ${missing.join(", ")} not set`);
        continue;
      }
      const t0 = Date.now();
      console.log(`step ${step.name}`);
      await step.run(ctx);
      if (pageErrors.length) throw new Error(`uncaught script error in the page: ${pageErrors.map((e) => e.stack || e).join("\n")}`);
      console.log(`step ${step.name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } catch (err) {
    const name = `${nn()}-${current}-FAILED.png`;
    await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true }).catch(() => {});
    console.error(`\nFAILED in step ${current} at ${page.url()}:\n${err.stack || err}\n(screenshot ${join(ARTIFACTS, name)})`);
    await browser.close().catch(() => {});
    process.exit(1);
  }
  await browser.close();
  console.log(`all ${STEPS.length} steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${ARTIFACTS}`);
}

await main();
