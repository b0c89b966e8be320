// The openapi-typescript types of openapi.yaml with openapi-fetch, against a live server.
// Type-checked by tsc (strict) before it runs: a contract change that breaks a client breaks this.
// Environment: BASE_URL, and for two seeded users USER_A/TOKEN_A and USER_B/TOKEN_B.
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

async function request(from: typeof alice, id: number) {
  return from.POST("/api/v2/user/{id}/connection/request/", { params: { path: { id } } });
}

const sent = await request(alice, b);
assert.equal(sent.response.status, 200);
const status: Status | undefined = sent.data?.connection_status;
assert.equal(status, "sent_connection_request");

const again = await request(alice, b);
assert.equal(again.data?.connection_status, "sent_connection_request", "idempotent");

const connected = await request(bob, a);
assert.equal(connected.data?.connection_status, "connected", "a mutual request connects");

const self = await request(alice, a);
assert.equal(self.response.status, 400);
const first = self.error?.errors[0];
assert.ok(first && "code" in first, JSON.stringify(self.error));
assert.equal(first.code, "self_connection");

const missing = await request(alice, 2 ** 53 - 1);
assert.equal(missing.response.status, 404);

console.log("typescript sdk (openapi-typescript + openapi-fetch): request, repeat, mutual connect, typed 400 and 404: ok");
