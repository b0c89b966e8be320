// SelfCommunity's own React UI (react-ui's friendship widgets, react-core's SCContextProvider)
// in headless Chromium, against this server, from a page on another origin (so through CORS).
// The page hands over nothing but the portal and a JWT: preferences, features, the user, the
// settings and hidden users are the UI's own start-up calls.
// Scenario: A asks B with FriendshipUserButton; B sees it in UserConnectionsRequestsWidget and
// accepts there; after a reload both sides show the connection, with counters; C,
// connected with A, gets B in the suggestions; after A hides B, B's request answers 403 and the
// UI says so; live, with no reload: when B asks C on B's page, C's page shows the toast and its
// button changes (react-core's notification socket). Fails on any page error, any failed API
// call the UI did not cause on purpose, any console error, and any "NaN".
// Environment: BASE_URL, CHROMIUM, SCREENSHOTS, UI_PORT (the page's port, allowed by the
// server's CORS_ALLOWED_ORIGINS), USER_A/TOKEN_A, USER_B/TOKEN_B, USER_C/TOKEN_C.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { test, after, before } from "node:test";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const here = dirname(fileURLToPath(import.meta.url));
const base = env("BASE_URL");
const screenshots = env("SCREENSHOTS");
mkdirSync(screenshots, { recursive: true });
const users = {
  a: { id: Number(env("USER_A")), token: env("TOKEN_A") },
  b: { id: Number(env("USER_B")), token: env("TOKEN_B") },
  c: { id: Number(env("USER_C")), token: env("TOKEN_C") },
};

let browser;
let site;
const origin = `http://127.0.0.1:${env("UI_PORT")}`;

before(async () => {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  site = createServer((req, res) => {
    const path = new URL(req.url, origin).pathname;
    const file = path === "/" ? "index.html" : path.slice(1);
    if (!["index.html", "out/app.js", "out/app.css"].includes(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[file.slice(file.lastIndexOf("."))] });
    res.end(readFileSync(join(here, file)));
  });
  await new Promise((ready) => site.listen(Number(env("UI_PORT")), "127.0.0.1", ready));
  browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  site?.close();
});

/** The API as the test itself calls it (set-up and checks). */
async function api(user, method, path) {
  const response = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${user.token}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Opens the page as `me`, showing `other`'s profile; collects what must not happen. */
async function open(me, other, { expectedApiErrors = [] } = {}) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 560 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() !== "error") return;
    // The UI logs the error it caused on purpose twice more (react-core, react-ui).
    if (expectedApiErrors.some((status) => text.includes(`status of ${status}`) || text.includes(`status code ${status}`))) return;
    problems.push(`console error: ${text}`);
  });
  page.on("response", (response) => {
    if (response.url().startsWith(base) && response.status() >= 400 && !expectedApiErrors.includes(response.status())) {
      problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  page.on("requestfailed", (request) => {
    if (request.url().startsWith(base)) problems.push(`failed ${request.url()}: ${request.failure()?.errorText}`);
  });
  const query = new URLSearchParams({
    portal: base,
    token: me.token,
    me: String(me.id),
    other: String(other.id),
    ws: new URL(base).host,
  });
  await page.goto(`${origin}/?${query}`, { waitUntil: "networkidle" });
  await page.locator("#button button").first().waitFor();
  page.problems = problems;
  return page;
}

async function settle(page, name) {
  await page.waitForLoadState("networkidle");
  const text = await page.locator("#root").innerText();
  assert.doesNotMatch(text, /NaN/, `${name}: a widget shows NaN`);
  assert.deepEqual(page.problems, [], `${name}: failed API calls or errors`);
  await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
  return text;
}

const button = (page) => page.locator("#button button").first();

test("A asks B, B accepts, both see the connection and its counters", async () => {
  let page = await open(users.a, users.b);
  assert.match(await button(page).innerText(), /connect/i);
  await button(page).click();
  await page.waitForFunction(() => /cancel/i.test(document.querySelector("#button button")?.innerText ?? ""));
  await settle(page, "1-alice-asked-bob");
  assert.equal((await api(users.a, "GET", `/api/v2/user/${users.b.id}/connection_status/`)).body.connection_status, "sent_connection_request");

  page = await open(users.b, users.a);
  await page.locator("#requests").getByText(/ui_a/).first().waitFor();
  assert.match(await button(page).innerText(), /accept/i, "the profile's button offers to accept too");
  // B accepts from the received requests widget.
  await page.locator("#requests button", { hasText: /accept/i }).first().click();
  await page.waitForFunction(() => /remove/i.test(document.querySelector("#button button")?.innerText ?? ""));
  await settle(page, "2-bob-accepted");
  assert.equal((await api(users.b, "GET", `/api/v2/user/${users.a.id}/connection_status/`)).body.connection_status, "connected");

  for (const [me, other, name] of [[users.a, users.b, "3-alice-after-reload"], [users.b, users.a, "4-bob-after-reload"]]) {
    page = await open(me, other);
    assert.match(await button(page).innerText(), /remove/i, `${name}: connected`);
    await page.locator("#connections").getByText(other === users.a ? /ui_a/ : /ui_b/).first().waitFor();
    const counters = await page.locator("#counters").innerText();
    assert.match(counters, /\b1\b/, `${name}: one connection counted: ${counters}`);
    await settle(page, name);
  }
});

test("C, connected with A, gets B in the suggestions", async () => {
  assert.equal((await api(users.c, "POST", `/api/v2/user/${users.a.id}/connection/request/`)).status, 200);
  assert.equal((await api(users.a, "POST", `/api/v2/user/${users.c.id}/connection/accept/`)).status, 200);
  const page = await open(users.c, users.b);
  await page.locator("#suggestions").getByText(/ui_b/).first().waitFor();
  await settle(page, "5-carol-suggestions");
});

test("after A hides B, B's request is refused and the UI says so", async () => {
  assert.equal((await api(users.a, "POST", `/api/v2/user/${users.b.id}/connection/remove/`)).status, 200);
  assert.equal((await api(users.a, "POST", `/api/v2/user/${users.b.id}/hide/`)).status, 204);
  const page = await open(users.b, users.a, { expectedApiErrors: [403] });
  assert.match(await button(page).innerText(), /connect/i);
  await button(page).click();
  // react-ui answers a 403 on these actions with its "blocked" snackbar.
  await page.getByText(/block/i).first().waitFor();
  await settle(page, "6-bob-blocked");
  assert.equal((await api(users.b, "GET", `/api/v2/user/${users.a.id}/connection_status/`)).body.connection_status, null);
});

test("live: B asks C on B's page; C's page shows the toast and the changed button, no reload", async () => {
  const carol = await open(users.c, users.b);
  const bob = await open(users.b, users.c);
  assert.match(await button(carol).innerText(), /connect/i);
  await button(bob).click();
  await bob.waitForFunction(() => /cancel/i.test(document.querySelector("#button button")?.innerText ?? ""));
  // C's page, untouched: react-core's socket got the `interaction` message.
  await carol.waitForFunction(() => /accept/i.test(document.querySelector("#button button")?.innerText ?? ""), null, { timeout: 15000 });
  await carol.locator("#toasts, .notistack-SnackbarContainer, [id^=connection_]").getByText(/ui_b/).first().waitFor({ timeout: 15000 });
  // The toast has slid in: no finite CSS transition or animation is still running (spinners loop forever).
  await carol.waitForFunction(
    () => document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity),
    null,
    { timeout: 15000 },
  );
  await settle(carol, "7-carol-live-toast");
  await settle(bob, "8-bob-asked-carol");
});
