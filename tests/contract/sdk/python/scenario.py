"""The openapi-python-client client of openapi.yaml, against a live server.

Friendship mode: a full cycle, request, accept, status, remove, and errors parsed as error
bodies. Follow mode (MODE=follow): the toggle, both checks, both lists, the counters.
Environment: BASE_URL, GENERATED (the folder holding the generated package `connections_client`),
and for two seeded users USER_A/TOKEN_A and USER_B/TOKEN_B.
"""

import os
import sys

sys.path.insert(0, os.environ["GENERATED"])

from connections_client import AuthenticatedClient  # noqa: E402
from connections_client.api.connections import (  # noqa: E402
    check_user_connections,
    get_user_connection_requests,
    user_accept_request_connection,
    user_remove_connection,
    user_request_connection,
)
from connections_client.api.users import (  # noqa: E402
    check_user_hidden,
    get_hidden_users_id,
    get_user_counters,
    show_hide_user,
)
from connections_client.api.follows import (  # noqa: E402
    check_user_followed,
    check_user_follower,
    follow_user,
    get_user_followers,
    get_user_followings,
)
from connections_client.models import ErrorBody  # noqa: E402

base = os.environ["BASE_URL"]
a, b = int(os.environ["USER_A"]), int(os.environ["USER_B"])
alice = AuthenticatedClient(base_url=base, token=os.environ["TOKEN_A"], raise_on_unexpected_status=True)
bob = AuthenticatedClient(base_url=base, token=os.environ["TOKEN_B"], raise_on_unexpected_status=True)


def call(endpoint, client, **kwargs):
    response = endpoint.sync_detailed(client=client, **kwargs)
    return response.status_code, response.parsed


if os.environ.get("MODE") == "follow":
    code, _ = call(follow_user, alice, id=b)
    assert code == 204, ("follow", code)
    code, body = call(check_user_followed, alice, id=b)
    assert (code, body.is_followed) == (200, True), ("is_followed", code, body)
    code, body = call(check_user_follower, bob, id=a)
    assert (code, body.is_follower) == (200, True), ("is_follower", code, body)
    code, page = call(get_user_followers, bob, id=b, limit=10)
    assert code == 200 and [u.id for u in page.results] == [a], ("followers", code, page)
    assert page.results[0].followings_counter == 1, page
    code, page = call(get_user_followings, alice, id=a, mutual=1)
    assert (code, page.count, [u.connection_status for u in page.results]) == (200, 1, ["followed"]), ("followings", code, page)
    code, body = call(get_user_counters, alice, id=b)
    assert (code, body.followers, body.followings) == (200, 1, 0), ("counters", code, body)
    code, body = call(follow_user, alice, id=a)
    assert code == 400 and isinstance(body, ErrorBody) and body.errors[0].code == "self_follow", (code, body)
    code, _ = call(follow_user, alice, id=b)
    code, body = call(check_user_followed, alice, id=b)
    assert (code, body.is_followed) == (200, False), ("unfollowed", code, body)
    print("python sdk (openapi-python-client), follow mode: follow, is_followed, is_follower, followers, followings, counters, 400 parsed, unfollow: ok")
    sys.exit(0)

code, body = call(user_request_connection, alice, id=b)
assert (code, body.connection_status) == (200, "sent_connection_request"), (code, body)

code, page = call(get_user_connection_requests, bob)
assert code == 200 and a in [r.from_user.id for r in page.results], (code, page)

code, body = call(user_accept_request_connection, bob, id=a)
assert (code, body.connection_status) == (200, "connected"), ("accept", code, body)

code, body = call(check_user_connections, alice, id=b)
assert (code, body.is_connection) == (200, True), (code, body)

code, body = call(get_user_counters, alice, id=b)
assert (code, body.connections) == (200, 1), ("counters", code, body)

code, body = call(user_remove_connection, alice, id=b)
assert (code, body.connection_status) == (200, None), ("remove", code, body)

code, body = call(user_accept_request_connection, alice, id=b)
assert code == 409 and isinstance(body, ErrorBody), (code, body)
assert body.errors[0].code == "no_connection_request", body

code, body = call(user_request_connection, alice, id=a)
assert code == 400 and body.errors[0].code == "self_connection", (code, body)

code, _ = call(show_hide_user, alice, id=b)
assert code == 204, ("hide", code)
code, body = call(check_user_hidden, alice, id=b)
assert (code, body.is_hidden) == (200, True), ("is_hidden", code, body)
code, body = call(get_hidden_users_id, alice)
assert (code, body) == (200, [b]), ("hidden ids", code, body)
code, _ = call(show_hide_user, alice, id=b)
assert code == 204, ("show again", code)

print("python sdk (openapi-python-client): request, accept, is_connection, counters, remove, 400 and 409 parsed, hide: ok")
