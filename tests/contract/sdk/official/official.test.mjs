// SelfCommunity's own published client (@selfcommunity/api-services, UserService) against this
// server: every connection function it has, in the order a front end calls them. The proof that
// existing SelfCommunity front ends work unchanged.
// Environment: BASE_URL, and for three seeded users USER_A/TOKEN_A, USER_B/TOKEN_B, USER_C/TOKEN_C;
// TOKEN_STAFF, a staff user's (WebhookService).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

// Its ES module build imports directories, which only bundlers resolve; Node loads its CommonJS
// build, as a server-side renderer would.
const { http, UserService, PreferenceService, FeatureService, SuggestionService, WebhookService, NotificationService } = createRequire(import.meta.url)(
  "@selfcommunity/api-services",
);

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

const status = (connection_status) => ({ connection_status });

async function rejectsWith(promise, httpStatus, code) {
  await assert.rejects(promise, (error) => {
    const response = error.response ?? error;
    assert.equal(response.status, httpStatus);
    const first = response.data.errors[0];
    assert.equal(first.code ?? first.messages[0].code, code);
    return true;
  });
}

test("userRequestConnection: A asks B, twice", async () => {
  as("A");
  assert.deepEqual(await UserService.userRequestConnection(b), status("sent_connection_request"));
  assert.deepEqual(await UserService.userRequestConnection(b), status("sent_connection_request"));
});

test("getUserConnectionRequests and userMarkSeenConnectionRequest: B sees it", async () => {
  as("B");
  const page = await UserService.getUserConnectionRequests();
  assert.equal(page.count, 1);
  assert.equal(page.results[0].from_user.id, a);
  assert.equal(page.results[0].viewed, null);
  await UserService.userMarkSeenConnectionRequest(a);
  const seen = await UserService.getUserConnectionRequests();
  assert.ok(seen.results[0].viewed, "viewed is set");
});

test("userRejectConnectionRequest: silent for A", async () => {
  as("B");
  assert.deepEqual(await UserService.userRejectConnectionRequest(a), status(null));
  assert.equal((await UserService.getUserConnectionRequests()).count, 0);
  as("A");
  const sent = await UserService.getUserRequestConnectionsSent();
  assert.equal(sent.count, 1);
  assert.equal(sent.results[0].to_user.id, b);
  assert.equal(sent.results[0].rejected, null, "rejection is silent");
});

test("userCancelRejectConnectionRequest then userAcceptRequestConnection", async () => {
  as("B");
  assert.deepEqual(await UserService.userCancelRejectConnectionRequest(a), status("received_connection_request"));
  assert.deepEqual(await UserService.userAcceptRequestConnection(a), status("connected"));
  assert.deepEqual(await UserService.checkUserConnections(a), { is_connection: true });
});

test("getUserConnectionStatuses: known users only", async () => {
  as("B");
  const answer = await UserService.getUserConnectionStatuses([a, c, a, 987654321]);
  assert.deepEqual(answer, { connection_statuses: { [a]: "connected", [c]: null } });
});

test("getUserConnections: pages with next, and mutual", async () => {
  as("A");
  assert.deepEqual(await UserService.userRequestConnection(c), status("sent_connection_request"));
  as("C");
  assert.deepEqual(await UserService.userAcceptRequestConnection(a), status("connected"));
  as("B");
  const first = await UserService.getUserConnections(a, { limit: 1 });
  assert.equal(first.count, 2);
  assert.equal(first.results.length, 1);
  assert.ok(first.next, "a next page");
  const second = (await http.request({ url: first.next, method: "GET" })).data;
  assert.equal(second.results.length, 1);
  assert.equal(second.next, null);
  assert.deepEqual(
    [first.results[0].id, second.results[0].id].sort(),
    [b, c].sort(),
    "both connections, once each",
  );
  const mutual = await UserService.getUserConnections(a, { mutual: 1 });
  assert.equal(mutual.count, 0, "B shares no connection with A");
});

test("userCancelRequestConnection", async () => {
  as("B");
  assert.deepEqual(await UserService.userRequestConnection(c), status("sent_connection_request"));
  assert.deepEqual(await UserService.userCancelRequestConnection(c), status(null));
});

test("userRemoveConnection, and the errors a front end meets", async () => {
  as("A");
  assert.deepEqual(await UserService.userRemoveConnection(b), status(null));
  assert.deepEqual(await UserService.checkUserConnections(b), { is_connection: false });
  await rejectsWith(UserService.userAcceptRequestConnection(b), 409, "no_connection_request");
  await rejectsWith(UserService.userRequestConnection(a), 400, "self_connection");
});

test("getUserCounters: what the profile's counters show", async () => {
  // After the steps above: A is connected with C (B's connection was removed, B's request to C
  // cancelled), and nothing is pending.
  as("B");
  assert.deepEqual(await UserService.getUserCounters(a), {
    connections: 1,
    connection_requests_sent: 0,
    connection_requests_received: 0,
  });
  const me = await UserService.getUserConnections(a, { limit: 1 });
  assert.equal(me.results[0].connections_counter, 1, "C, listed, carries its own counter");
});

test("showHideUser, checkUserHidden(By), getHiddenUsers(Id): A hides B, and B cannot ask", async () => {
  as("A");
  assert.ok(!(await UserService.showHideUser(b)), "204, no body");
  assert.deepEqual(await UserService.checkUserHidden(b), { is_hidden: true });
  assert.deepEqual(await UserService.getHiddenUsersId(), [b]);
  const hidden = await UserService.getHiddenUsers({ limit: 10 });
  assert.equal(hidden.count, 1);
  assert.equal(hidden.results[0].id, b);
  as("B");
  assert.deepEqual(await UserService.checkUserHiddenBy(a), { is_hidden_by: true });
  await rejectsWith(UserService.userRequestConnection(a), 403, "user_hidden");
  as("A");
  await UserService.showHideUser(b);
  assert.deepEqual(await UserService.getHiddenUsersId(), [], "shown again");
});

test("getAllPreferences and getAllFeatures: what react-core loads before it draws", async () => {
  as("A");
  const preferences = await PreferenceService.getAllPreferences();
  assert.equal(preferences.next, null, "one page, no limit");
  assert.equal(preferences.count, preferences.results.length);
  const byKey = Object.fromEntries(preferences.results.map((p) => [`${p.section}.${p.name}`, p.value]));
  assert.equal(typeof byKey["configurations.url_template_post"], "string");
  assert.equal(typeof byKey["images.user_default_cover"], "string");
  const features = await FeatureService.getAllFeatures();
  assert.equal(features.next, null);
  assert.ok(Array.isArray(features.results));
});

test("userSettings and userSettingsPatch: what react-core reads at login", async () => {
  as("C");
  const defaults = await UserService.userSettings(c);
  assert.deepEqual(defaults, {
    qa_frequency: 0,
    email_notification_not_qa: 0,
    mobile_notifications_scmty: 0,
    show_toast_notifications: 1,
    toast_notifications_emit_sound: 1,
  });
  const changed = await UserService.userSettingsPatch(c, { toast_notifications_emit_sound: 0 });
  assert.equal(changed.toast_notifications_emit_sound, 0);
  assert.equal(changed.show_toast_notifications, 1, "the others keep theirs");
  await rejectsWith(UserService.userSettings(a), 403, "permission_denied");
});

test("SuggestionService.getUserSuggestion: C may know B through A", async () => {
  // A is connected with C (above); B connects with A now. C has no relation with B (B's request
  // to C was cancelled above).
  as("B");
  assert.deepEqual(await UserService.userRequestConnection(a), status("sent_connection_request"));
  as("A");
  assert.deepEqual(await UserService.userAcceptRequestConnection(b), status("connected"));
  as("C");
  const page = await SuggestionService.getUserSuggestion({ limit: 10 });
  assert.deepEqual(page.results.map((u) => u.id), [b]);
  assert.equal(page.results[0].connection_status, null);
  assert.equal(page.count, 1);
});

test("WebhookService: every function, as a staff dashboard calls them", async () => {
  as("A");
  await rejectsWith(WebhookService.getAllWebhookEndpoints(), 403, "permission_denied");
  as("STAFF");
  const types = await WebhookService.getAllWebhookEvents();
  assert.ok(types.includes("connection.created") && types.includes("connection.follow") && types.length === 8, JSON.stringify(types));
  // A public address (nothing answers there from the test machine: the attempts log says so).
  const target = "https://93.184.216.34/selfcommunity-hook";
  const created = await WebhookService.createWebhookEndpoint({ target, events: [{ type: "connection.created" }] });
  assert.equal(created.target, target);
  assert.equal(created.signing_secret.length, 64);
  assert.deepEqual(created.events.map((e) => e.type), ["connection.created"]);
  await rejectsWith(WebhookService.createWebhookEndpoint({ target: "http://127.0.0.1/x", events: [] }), 400, "private_target");
  const page = await WebhookService.getAllWebhookEndpoints();
  assert.ok(page.results.some((e) => e.id === created.id));
  assert.equal((await WebhookService.getASpecificWebhookEndpoint(created.id)).id, created.id);
  const patched = await WebhookService.updateASingleWebhookEndpointField(created.id, { description: "CRM", events: [{ type: "connection.deleted" }] });
  assert.equal(patched.description, "CRM");
  assert.deepEqual(patched.events.map((e) => e.type), ["connection.deleted"]);
  const replaced = await WebhookService.updateASpecificWebhookEndpoint(created.id, { target, events: [], is_active: false });
  assert.equal(replaced.is_active, false);
  assert.equal(replaced.events.length, 8, "no events: every type, follow mode's two included");
  assert.equal((await WebhookService.revealWebhookSigningSecret(created.id)).signing_secret, created.signing_secret);
  await WebhookService.expireWebhookSigningSecret(created.id);
  assert.notEqual((await WebhookService.revealWebhookSigningSecret(created.id)).signing_secret, created.signing_secret);
  // The earlier tests' changes are events 1, 2, ... An inactive endpoint gets no resend (and so
  // nothing is sent to the public address above).
  await rejectsWith(WebhookService.resendWebhookEndpointEvent(created.id, 1), 409, "endpoint_inactive");
  await rejectsWith(WebhookService.resendMultipleWebhookEndpointEvent(created.id, [1, 2]), 409, "endpoint_inactive");
  const attempts = await WebhookService.getAllWebhookEndpointAttempts(created.id);
  assert.equal(typeof attempts.count, "number");
  await WebhookService.deleteWebhookEndpoint(created.id);
  await rejectsWith(WebhookService.getASpecificWebhookEndpoint(created.id), 404, "not_found");
});

test("NotificationService: B's feed has A's request, and reading it counts", async () => {
  as("B");
  const feed = await NotificationService.listUserNotification();
  const requests = feed.results.flatMap((group) => group.aggregated).filter((n) => n.type === "connection_request");
  assert.ok(requests.some((n) => n.request_user.id === a), JSON.stringify(feed));
  const before = (await NotificationService.getUnseenNotification()).count;
  assert.ok(before >= 1, `unseen: ${before}`);
  await NotificationService.markReadNotification([feed.results[0].sid]);
  assert.equal((await NotificationService.getUnseenNotification()).count, before - 1);
});
