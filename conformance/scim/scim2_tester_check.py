"""Runs the scim2-tester suite (PyPI, Yaal Coop) against a live Tessera.

Usage: python scim2_tester_check.py BASE_URL TOKEN
Prints every check; exits 1 if any ends in ERROR or CRITICAL.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    scim = SyncSCIMClient(http)
    scim.discover()
    results = check_server(scim)
    bad = 0
    for r in results:
        name = r.status.name
        if name in ("ERROR", "CRITICAL"):
            bad += 1
        print(f"{name:10} {r.resource_type or '-':6} {r.title}: {r.reason or ''}")
    counts = {}
    for r in results:
        counts[r.status.name] = counts.get(r.status.name, 0) + 1
    print("scim2-tester:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"{len(results) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
