"""The openapi-python-client client of openapi.yaml, against a live server.

Environment: BASE_URL, GENERATED (the folder holding the generated package `connections_client`),
and for two seeded users USER_A/TOKEN_A and USER_B/TOKEN_B, in friendship mode.
"""

import os
import sys

sys.path.insert(0, os.environ["GENERATED"])

from connections_client import AuthenticatedClient  # noqa: E402
from connections_client.api.connections import user_request_connection  # noqa: E402
from connections_client.models import ConnectionStatusBody, ErrorBody  # noqa: E402

base = os.environ["BASE_URL"]
a, b = int(os.environ["USER_A"]), int(os.environ["USER_B"])
alice = AuthenticatedClient(base_url=base, token=os.environ["TOKEN_A"], raise_on_unexpected_status=True)
bob = AuthenticatedClient(base_url=base, token=os.environ["TOKEN_B"], raise_on_unexpected_status=True)


def status(client, target):
    response = user_request_connection.sync_detailed(id=target, client=client)
    return response.status_code, response.parsed


code, body = status(alice, b)
assert code == 200 and isinstance(body, ConnectionStatusBody), (code, body)
assert body.connection_status == "sent_connection_request", body

code, body = status(alice, b)
assert (code, body.connection_status) == (200, "sent_connection_request"), ("idempotent", code, body)

code, body = status(bob, a)
assert (code, body.connection_status) == (200, "connected"), ("a mutual request connects", code, body)

code, body = status(alice, a)
assert code == 400 and isinstance(body, ErrorBody), (code, body)
assert body.errors[0].code == "self_connection", body

code, body = status(alice, 2**63 - 1)
assert code == 404 and isinstance(body, ErrorBody), (code, body)
assert body.errors[0].code == "not_found", body

print("python sdk (openapi-python-client): request, repeat, mutual connect, 400 and 404 parsed: ok")
