// SelfCommunity's own published client (@selfcommunity/api-services, UserService) against this
// server: the proof that existing SelfCommunity front ends work unchanged.
// Environment: BASE_URL, and for two seeded users USER_A/TOKEN_A and USER_B/TOKEN_B.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

// Its ES module build imports directories, which only bundlers resolve; Node loads its CommonJS
// build, as a server-side renderer would.
const { http, UserService } = createRequire(import.meta.url)("@selfcommunity/api-services");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const a = Number(env("USER_A"));
const b = Number(env("USER_B"));

function as(tokenName) {
  http.setBasePortal(env("BASE_URL"));
  http.setAuthorizeToken(env(tokenName));
}

test("userRequestConnection sends a request", async () => {
  as("TOKEN_A");
  assert.deepEqual(await UserService.userRequestConnection(b), { connection_status: "sent_connection_request" });
});

test("userRequestConnection again changes nothing", async () => {
  as("TOKEN_A");
  assert.deepEqual(await UserService.userRequestConnection(b), { connection_status: "sent_connection_request" });
});

test("userRequestConnection back connects", async () => {
  as("TOKEN_B");
  assert.deepEqual(await UserService.userRequestConnection(a), { connection_status: "connected" });
});

test("userRequestConnection on oneself is rejected with the error body", async () => {
  as("TOKEN_A");
  await assert.rejects(UserService.userRequestConnection(a), (error) => {
    const response = error.response ?? error;
    assert.equal(response.status, 400);
    assert.equal(response.data.errors[0].code, "self_connection");
    return true;
  });
});
