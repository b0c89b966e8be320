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
// Environment: see page.mjs; USER_C/TOKEN_C too. The server in friendship mode.
import assert from "node:assert/strict";
import { test } from "node:test";
import { api, button, open, settle, users } from "./page.mjs";

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
