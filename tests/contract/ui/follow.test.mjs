// SelfCommunity's React UI in follow mode (its default), in headless Chromium against this
// server, from a page on another origin. Scenario: A follows B with FollowUserButton, and the
// label survives a reload; B's UserFollowersWidget lists A and A's UserFollowedUsersWidget lists
// B; UserCounters on B's profile counts the follower; an unfollow undoes it all; live, with no
// reload: a follow made elsewhere (A, through the API) reaches B's open page as a toast and in
// B's followers. Fails on any page error, failed API call, console error or "NaN".
// Environment: see page.mjs. The server in follow mode.
import assert from "node:assert/strict";
import { test } from "node:test";
import { api, button, open, settle, users } from "./page.mjs";

const follow = { mode: "follow" };
const label = async (page) => (await button(page).innerText()).trim();
const waitLabel = (page, pattern) =>
  page.waitForFunction((source) => new RegExp(source, "i").test(document.querySelector("#button button")?.innerText ?? ""), pattern.source);

test("A follows B with FollowUserButton; both widgets and the counters show it; an unfollow undoes it", async () => {
  let page = await open(users.a, users.b, follow);
  assert.match(await label(page), /^follow$/i);
  await button(page).click();
  await waitLabel(page, /unfollow/);
  await settle(page, "f1-alice-follows-bob");
  assert.deepEqual((await api(users.a, "GET", `/api/v2/user/${users.b.id}/is_followed/`)).body, { is_followed: true });

  page = await open(users.a, users.b, follow);
  assert.match(await label(page), /unfollow/i, "the label survives a reload");
  await page.locator("#followed").getByText(/uf_b/).first().waitFor();
  const counters = await page.locator("#counters").innerText();
  assert.match(counters, /\b1\b/, `one follower counted: ${counters}`);
  await settle(page, "f2-alice-after-reload");

  page = await open(users.b, users.a, follow);
  await page.locator("#followers").getByText(/uf_a/).first().waitFor();
  assert.match(await label(page), /^follow$/i, "bob does not follow alice");
  await settle(page, "f3-bob-sees-his-follower");

  page = await open(users.a, users.b, follow);
  await button(page).click();
  await waitLabel(page, /^\s*follow\s*$/);
  await settle(page, "f4-alice-unfollowed");
  assert.deepEqual((await api(users.a, "GET", `/api/v2/user/${users.b.id}/is_followed/`)).body, { is_followed: false });
  page = await open(users.b, users.a, follow);
  await settle(page, "f5-bob-no-follower");
  assert.doesNotMatch(await page.locator("#followers").innerText(), /uf_a/, "the follower is gone");
});

test("live: a follow made elsewhere reaches B's open page, no reload", async () => {
  const bob = await open(users.b, users.a, follow);
  await settle(bob, "f6-bob-waiting");
  assert.equal((await api(users.a, "POST", `/api/v2/user/${users.b.id}/follow/`)).status, 204);
  await bob.locator("#toasts, .notistack-SnackbarContainer").getByText(/uf_a/).first().waitFor({ timeout: 15000 });
  await bob.waitForFunction(
    () => document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity),
    null,
    { timeout: 15000 },
  );
  await settle(bob, "f7-bob-live-toast");
});
