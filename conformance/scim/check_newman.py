"""Reads newman's JSON report; fails on any failed assertion not listed, with its
RFC reason, in known-deviations.json. Also fails if a listed deviation no longer
occurs (the list must stay true)."""

import json
import sys


def main() -> int:
    report = json.load(open(sys.argv[1]))
    known = {(d["request"], d["assertion"]): d["reason"] for d in json.load(open(sys.argv[2]))}
    run = report["run"]
    failures = [(f["source"]["name"], f["error"].get("test") or f["error"].get("message", "")) for f in run["failures"]]
    unexpected = [f for f in failures if f not in known]
    # A request that runs twice fails each time; count distinct (request, assertion) pairs.
    seen_known = {f for f in failures if f in known}
    stale = [k for k in known if k not in seen_known]
    total = run["stats"]["assertions"]["total"]
    failed = run["stats"]["assertions"]["failed"]
    print(f"newman: {total} assertions, {failed} failed, of which {failed - len(unexpected)} are known RFC deviations")
    for request, assertion in sorted(seen_known):
        print(f"  known deviation: {request} / {assertion}: {known[(request, assertion)]}")
    for request, assertion in unexpected:
        print(f"  UNEXPECTED FAILURE: {request} / {assertion}")
    for request, assertion in stale:
        print(f"  listed deviation no longer fails, remove it: {request} / {assertion}")
    bad = len(unexpected) + len(stale)
    print(f"{total - failed} passed, {len(unexpected)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
