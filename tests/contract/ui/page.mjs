// What the React UI browser tests share: the test page's own web server (another origin than
// the API's, allowed by the server's CORS_ALLOWED_ORIGINS), headless Chromium, the API as the
// tests call it, opening the page as a user, and settling it (no failed call, no error, no NaN).
// Environment: BASE_URL, CHROMIUM, SCREENSHOTS, UI_PORT, USER_A/TOKEN_A, USER_B/TOKEN_B
// (USER_C/TOKEN_C when set).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const here = dirname(fileURLToPath(import.meta.url));
export const base = env("BASE_URL");
const screenshots = env("SCREENSHOTS");
mkdirSync(screenshots, { recursive: true });
const user = (letter) => (process.env[`USER_${letter}`] ? { id: Number(env(`USER_${letter}`)), token: env(`TOKEN_${letter}`) } : null);
export const users = { a: user("A"), b: user("B"), c: user("C") };

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
export async function api(user, method, path) {
  const response = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${user.token}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Opens the page as `me`, showing `other`'s profile; collects what must not happen. */
export async function open(me, other, { expectedApiErrors = [], mode = "friendship" } = {}) {
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
    mode,
  });
  await page.goto(`${origin}/?${query}`, { waitUntil: "networkidle" });
  await page.locator("#button button").first().waitFor();
  page.problems = problems;
  return page;
}

export async function settle(page, name) {
  await page.waitForLoadState("networkidle");
  const text = await page.locator("#root").innerText();
  assert.doesNotMatch(text, /NaN/, `${name}: a widget shows NaN`);
  assert.deepEqual(page.problems, [], `${name}: failed API calls or errors`);
  await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
  return text;
}

export const button = (page) => page.locator("#button button").first();

