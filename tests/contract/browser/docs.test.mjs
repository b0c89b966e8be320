// The docs site in a real browser (headless Chromium, driven by playwright-core): Swagger UI's
// Authorize and "Try it out" on Request Connection succeed, and the reference page shows every
// operation. Nothing on these pages may load anything from outside the server.
// Environment: BASE_URL, CHROMIUM, SCREENSHOTS (a folder), and a seeded pair USER_A/TOKEN_A,
// USER_B (A asks B through the page).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { test, after, before } from "node:test";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("BASE_URL");
const screenshots = env("SCREENSHOTS");
mkdirSync(screenshots, { recursive: true });

let browser;
let outside = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
});

async function open(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:")) outside.push(url);
  });
  await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
  return page;
}

test("Swagger UI: Authorize, then Try it out on Request Connection", async () => {
  outside = [];
  const page = await open("/docs/");
  const operation = page.locator("#operations-Connections-userRequestConnection");
  await operation.waitFor();

  await page.locator("button.authorize").first().click();
  await page.locator(".modal-ux input").first().fill(env("TOKEN_A"));
  await page.locator(".modal-ux button.authorize").click();
  await page.locator(".modal-ux button.btn-done").click();

  await operation.locator(".opblock-summary").click();
  // The server's Swagger UI opens operations ready to try (tryItOutEnabled); the button is
  // there for the UIs that do not.
  const id = operation.locator("input[placeholder='id']");
  if (await id.isDisabled()) await operation.locator("button.try-out__btn").click();
  await id.fill(env("USER_B"));
  await operation.locator("button.execute").click();

  const status = operation.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor();
  assert.equal((await status.textContent()).trim(), "200");
  const body = await operation.locator(".live-responses-table .response-col_description pre").first().textContent();
  assert.match(body, /"connection_status": "sent_connection_request"/);
  await operation.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${screenshots}/swagger-request-connection.png` });
  assert.deepEqual(outside, [], "Swagger UI loads nothing from outside the server");
});

test("the reference page renders every operation", async () => {
  outside = [];
  const page = await open("/docs/reference/");
  const spec = await (await fetch(`${base}/openapi.json`)).json();
  const ids = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
  assert.ok(ids.length >= 17, `${ids.length} operations`);
  for (const id of ids) {
    const section = page.locator(`section#api-${id}`);
    assert.equal(await section.count(), 1, `${id} has a section`);
    assert.ok(await section.locator("h1").isVisible(), `${id} shows its title`);
    assert.ok((await section.locator("table").count()) >= 2, `${id} has its tables`);
  }
  await page.locator("section#connections").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${screenshots}/reference-state-machine.png` });
  assert.deepEqual(outside, [], "the reference page loads nothing from outside the server");
});
