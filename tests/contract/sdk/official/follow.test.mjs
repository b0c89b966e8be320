// SelfCommunity's own published client (@selfcommunity/api-services, UserService) against this
// server in follow mode (SelfCommunity's default): its five follow functions, in the order a
// front end calls them, and the reads that show a follow (statuses, counters, the feed).
// Environment: BASE_URL, and for three seeded users USER_A/TOKEN_A, USER_B/TOKEN_B,
// USER_C/TOKEN_C; the server in follow mode.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const { http, UserService, NotificationService } = createRequire(import.meta.url)("@selfcommunity/api-services");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const a = Number(env("USER_A"));
const b = Number(env("USER_B"));
const c = Number(env("USER_C"));

function as(letter) {
  http.setBasePortal(env("BASE_URL"));
  http.setAuthorizeToken(env(`TOKEN_${letter}`));
}

async function rejectsWith(promise, httpStatus, code) {
  await assert.rejects(promise, (error) => {
    const response = error.response ?? error;
    assert.equal(response.status, httpStatus);
    const first = response.data.errors[0];
    assert.equal(first.code ?? first.messages[0].code, code);
    return true;
  });
}

test("followUser and checkUserFollowed: A follows B, the toggle undoes it", async () => {
  as("A");
  assert.deepEqual(await UserService.checkUserFollowed(b), { is_followed: false });
  await UserService.followUser(b);
  assert.deepEqual(await UserService.checkUserFollowed(b), { is_followed: true });
  await UserService.followUser(b);
  assert.deepEqual(await UserService.checkUserFollowed(b), { is_followed: false }, "a toggle");
  await UserService.followUser(b);
  assert.deepEqual(await UserService.checkUserFollowed(a), { is_followed: false }, "oneself: false");
  await rejectsWith(UserService.followUser(a), 400, "self_follow");
  await rejectsWith(UserService.followUser(999999999), 404, "not_found");
});

test("checkUserFollower: B is followed by A", async () => {
  as("B");
  assert.deepEqual(await UserService.checkUserFollower(a), { is_follower: true });
  assert.deepEqual(await UserService.checkUserFollower(c), { is_follower: false });
});

test("getUserFollowers and getUserFollowings: pages, mutual first, with statuses", async () => {
  as("C");
  await UserService.followUser(b);
  await UserService.followUser(a);
  as("B");
  const followers = await UserService.getUserFollowers(b, { limit: 1 });
  assert.equal(followers.count, 2);
  assert.equal(followers.results.length, 1);
  assert.equal(followers.results[0].id, c, "newest follow first");
  assert.ok(followers.next, "a next page");
  as("A");
  // B's followers are A and C; A follows neither of them yet: newest follow first, every
  // status null (A reads null about themself).
  const all = await UserService.getUserFollowers(b, { limit: 10 });
  assert.deepEqual(all.results.map((u) => u.id), [c, a]);
  assert.deepEqual(all.results.map((u) => u.connection_status), [null, null]);
  await UserService.followUser(c);
  const mutual = await UserService.getUserFollowers(b, { limit: 10, mutual: 1 });
  assert.deepEqual(mutual.results.map((u) => [u.id, u.connection_status]), [[c, "followed"]], "those A follows");
  // C follows B, then A: A follows B, so B comes first, then A (newest follow first within
  // each group).
  const followings = await UserService.getUserFollowings(c, { limit: 10 });
  assert.deepEqual(followings.results.map((u) => [u.id, u.connection_status]), [[b, "followed"], [a, null]]);
  assert.equal(followings.count, 2);
});

test("getUserConnectionStatuses and getUserCounters: what useSCFollowedManager and UserCounters read", async () => {
  as("A");
  const statuses = await UserService.getUserConnectionStatuses([b, c, a]);
  assert.deepEqual(statuses.connection_statuses, { [b]: "followed", [c]: "followed", [a]: null });
  const counters = await UserService.getUserCounters(b);
  assert.deepEqual(counters, { followers: 2, followings: 0 });
  const user = await UserService.getSpecificUser(b);
  assert.equal(user.followers_counter, 2);
  assert.equal(user.connection_status, "followed");
  await rejectsWith(UserService.userRequestConnection(b), 403, "friendship_mode_disabled");
});

test("NotificationService: B's feed has A's and C's follows", async () => {
  as("B");
  const feed = await NotificationService.listUserNotification();
  const follows = feed.results.map((group) => group.aggregated[0]).filter((n) => n.type === "user_follow");
  assert.deepEqual(follows.map((n) => n.follower.id).sort(), [a, a, c].sort(), "A followed B twice (toggled between), C once");
  assert.ok(follows.every((n) => n.is_new));
});
