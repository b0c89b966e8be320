// The openapi-typescript types of openapi.yaml with openapi-fetch, against a live server.
// Type-checked by tsc (strict) before it runs: a contract change that breaks a client breaks this.
// Friendship mode: a full cycle, request, accept, status, remove. Follow mode (MODE=follow): the
// toggle, both checks, both lists, the counters. Environment: BASE_URL, and for two seeded users
// USER_A/TOKEN_A and USER_B/TOKEN_B.
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { paths, components } from "../../generated/ts/schema.js";

type Status = components["schemas"]["ConnectionStatus"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const baseUrl = env("BASE_URL");
const a = Number(env("USER_A"));
const b = Number(env("USER_B"));
const client = (token: string) =>
  createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const alice = client(env("TOKEN_A"));
const bob = client(env("TOKEN_B"));
const onUser = (id: number) => ({ params: { path: { id } } });

async function followMode(): Promise<void> {
  assert.equal((await alice.POST("/api/v2/user/{id}/follow/", onUser(b))).response.status, 204);
  const followed = await alice.GET("/api/v2/user/{id}/is_followed/", onUser(b));
  assert.equal(followed.data?.is_followed, true);
  const follower = await bob.GET("/api/v2/user/{id}/is_follower/", onUser(a));
  assert.equal(follower.data?.is_follower, true);
  const followers = await bob.GET("/api/v2/user/{id}/followers/", { params: { path: { id: b }, query: { limit: 10 } } });
  assert.deepEqual(followers.data?.results.map((u) => u.id), [a]);
  const followings = await bob.GET("/api/v2/user/{id}/followings/", { params: { path: { id: a }, query: { mutual: 1 } } });
  assert.equal(followings.data?.count, 0, "bob follows nobody A follows");
  const status: Status | undefined = (await alice.GET("/api/v2/user/{id}/", onUser(b))).data?.connection_status;
  assert.equal(status, "followed");
  const counters = await alice.GET("/api/v2/user/{id}/counters/", onUser(b));
  assert.deepEqual(counters.data, { followers: 1, followings: 0 });
  const self = await alice.POST("/api/v2/user/{id}/follow/", onUser(a));
  assert.equal(self.response.status, 400);
  const first = self.error?.errors[0];
  assert.ok(first && "code" in first && first.code === "self_follow", JSON.stringify(self.error));
  assert.equal((await alice.POST("/api/v2/user/{id}/follow/", onUser(b))).response.status, 204, "unfollowed");
  assert.equal((await alice.GET("/api/v2/user/{id}/is_followed/", onUser(b))).data?.is_followed, false);
  console.log("typescript sdk (openapi-typescript + openapi-fetch), follow mode: follow, is_followed, is_follower, followers, followings, counters, typed 400, unfollow: ok");
}

if (process.env.MODE === "follow") {
  await followMode();
  process.exit(0);
}

const sent = await alice.POST("/api/v2/user/{id}/connection/request/", onUser(b));
assert.equal(sent.response.status, 200);
const status: Status | undefined = sent.data?.connection_status;
assert.equal(status, "sent_connection_request");

const received = await bob.GET("/api/v2/user/connection/requests/", { params: { query: { limit: 10 } } });
assert.ok(received.data?.results.some((r) => r.from_user.id === a), "B sees A's request");

const accepted = await bob.POST("/api/v2/user/{id}/connection/accept/", onUser(a));
assert.equal(accepted.data?.connection_status, "connected");

const check = await alice.GET("/api/v2/user/{id}/is_connection/", onUser(b));
assert.equal(check.data?.is_connection, true);

const counters = await alice.GET("/api/v2/user/{id}/counters/", onUser(b));
assert.equal(counters.data?.connections, 1, "B's counters after the accept");
const me = await bob.GET("/api/v2/user/me/");
assert.equal(me.data?.connections_counter, 1, "B's own counter");

const removed = await alice.POST("/api/v2/user/{id}/connection/remove/", onUser(b));
assert.equal(removed.data?.connection_status, null);

const nothing = await alice.POST("/api/v2/user/{id}/connection/accept/", onUser(b));
assert.equal(nothing.response.status, 409);
const first = nothing.error?.errors[0];
assert.ok(first && "code" in first, JSON.stringify(nothing.error));
assert.equal(first.code, "no_connection_request");

const self = await alice.POST("/api/v2/user/{id}/connection/request/", onUser(a));
assert.equal(self.response.status, 400);

const hidden = await alice.POST("/api/v2/user/{id}/hide/", onUser(b));
assert.equal(hidden.response.status, 204);
const isHidden = await alice.GET("/api/v2/user/{id}/is_hidden/", onUser(b));
assert.equal(isHidden.data?.is_hidden, true);
const ids = await alice.GET("/api/v2/user/hidden_users_id/");
assert.deepEqual(ids.data, [b]);
const refused = await bob.POST("/api/v2/user/{id}/connection/request/", onUser(a));
assert.equal(refused.response.status, 403);
assert.equal((await alice.POST("/api/v2/user/{id}/hide/", onUser(b))).response.status, 204, "shown again");

console.log("typescript sdk (openapi-typescript + openapi-fetch): request, accept, is_connection, counters, remove, typed 409 and 400, hide: ok");
