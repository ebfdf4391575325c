#!/usr/bin/env python3
"""What the chaos test asserts, and the figures it prints.

Reads the actions (one JSON object a line, from test/chaos/run: id, key,
status, attempts, error, skip, events) and the mock provider's record per
idempotency key (GET /_mock/keys), and prints TAP, then the figures as TAP
comments.  A duplicate is a key the provider delivered more than once; each
extra delivery needs its cause in the audit log: a runner that died before
recording an earlier attempt (action.unrecorded), or an earlier attempt
whose answer never reached the runner (timed_out, cut, no_answer) although
the provider had acted on it: a slow provider, an answer lost on the way back.
No runner can tell those from a request that never arrived, so both are
retried under the same key.
"""

import argparse
import collections
import json
import sys

# Outcomes of requests the provider surely saw; no_answer may be one it saw
# (a connection closed before answering) or not (no connection).
REQUEST_OUTCOMES = {"accepted", "refused", "timed_out", "cut"}
TERMINAL = {"sent", "failed", "skipped", "cancelled"}


def explain(action, seen):
    """An action's story, for a failed check: its events, what the provider did."""
    return {"id": action["id"], "status": action["status"],
            "events": [(e["type"], e["attempt"], e["runner"], e["outcome"])
                       for e in action["events"] or []],
            "provider": [(r["status"], r["answer"], r["delivered"])
                         for r in seen.get(action["key"], [])]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", required=True)
    parser.add_argument("--mock-keys", required=True)
    parser.add_argument("--max-attempts", type=int, required=True)
    parser.add_argument("--kills", type=int, required=True)
    parser.add_argument("--kills-planned", type=int, required=True)
    parser.add_argument("--restarts", type=int, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    args = parser.parse_args()

    with open(args.actions) as f:
        actions = [json.loads(line) for line in f if line.strip()]
    with open(args.mock_keys) as f:
        seen = json.load(f)["keys"]

    unfinished, no_reason, over, dup_unexplained, failed_accepted = [], [], [], [], []
    unlogged, unseen = [], []
    causes = collections.Counter()
    attempts = collections.Counter()
    statuses = collections.Counter()
    outcomes = collections.Counter()
    runners = set()
    for a in actions:
        events = a["events"] or []
        requests = seen.get(a["key"], [])
        delivered = [r for r in requests if r["delivered"]]
        logged = [e for e in events if e["outcome"] in REQUEST_OUTCOMES]
        unrecorded = [e for e in events if e["type"] == "action.unrecorded"]
        unanswered = [e for e in events if e["outcome"] == "no_answer"]
        # Answers the runner never got, for requests the provider acted on.
        lost = min(sum(1 for e in logged if e["outcome"] in ("timed_out", "cut"))
                   + len(unanswered), len(delivered))
        statuses[a["status"]] += 1
        attempts[a["attempts"]] += 1
        for e in events:
            if e["outcome"]:
                outcomes[e["outcome"]] += 1
            if e["runner"] is not None:
                runners.add(e["runner"])

        if a["status"] not in TERMINAL:
            unfinished.append(a["id"])
        elif (a["status"] == "failed" and not a["error"]) or \
                (a["status"] in ("skipped", "cancelled") and not a["skip"]):
            no_reason.append(a["id"])
        if a["attempts"] > args.max_attempts:
            over.append(a["id"])

        # A duplicate needs a cause in the audit log, one per extra delivery.
        extra = len(delivered) - 1
        if extra > 0:
            if extra > len(unrecorded) + lost:
                dup_unexplained.append(a)
            causes["runner died"] += min(extra, len(unrecorded))
            causes["answer lost"] += max(0, min(extra - len(unrecorded), lost))

        # Never failed after an acceptance it learned of; an acceptance it
        # never learned of needs a dead runner (or a lost answer) to excuse it.
        if a["status"] == "failed":
            if any(e["outcome"] == "accepted" for e in events):
                failed_accepted.append(a)
            elif delivered and not unrecorded and not lost:
                failed_accepted.append(a)

        # Every request the provider saw has its event (an unrecorded one if
        # its runner died), and every recorded outcome was a real request.
        if len(requests) > len(logged) + len(unanswered) + len(unrecorded):
            unlogged.append(a["id"])
        if len(logged) > len(requests):
            unseen.append(a["id"])

    keys = {a["key"] for a in actions}
    stray = [k for k in seen if k not in keys]
    unsent = [a["id"] for a in actions if a["key"] not in seen]
    checks = [
        (not unsent and len(actions) > 0,
         "the provider saw every one of the %d actions" % len(actions), unsent[:5]),
        (not unfinished and not no_reason,
         "every action ends sent, failed, skipped or cancelled, with a reason",
         unfinished[:5] + no_reason[:5]),
        (not over, "no action went past %d attempts" % args.max_attempts, over[:5]),
        (not dup_unexplained,
         "no key was delivered twice unless a runner died between sending and recording "
         "it, or the answer to a delivered request was lost",
         [explain(a, seen) for a in dup_unexplained[:3]]),
        (not failed_accepted, "no message the provider accepted is recorded failed",
         [explain(a, seen) for a in failed_accepted[:3]]),
        (not unlogged and not stray, "every request the provider saw has its event",
         unlogged[:5] + stray[:5]),
        (not unseen, "every request outcome in the audit log is one the provider saw",
         unseen[:5]),
        (args.kills == args.kills_planned and args.restarts == 1,
         "%d dispatchers were killed with kill -9 and the server restarted once" % args.kills_planned,
         [args.kills, args.restarts]),
    ]
    print("1..%d" % len(checks))
    for i, (ok, name, sample) in enumerate(checks, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                "" if ok else " (e.g. %s)" % sample))

    requests = sum(len(v) for v in seen.values())
    delivered = sum(1 for v in seen.values() for r in v if r["delivered"])
    print("# actions %d: %s" % (len(actions), ", ".join(
        "%s %d" % kv for kv in sorted(statuses.items()))))
    print("# kill -9 %d, immediate restarts %d, runners %d, seconds %d"
          % (args.kills, args.restarts, len(runners), args.seconds))
    print("# requests the provider saw %d, delivered %d" % (requests, delivered))
    print("# duplicates %d: %s" % (sum(causes.values()), ", ".join(
        "%s %d" % kv for kv in sorted(causes.items())) or "none"))
    print("# attempts: %s" % ", ".join("%d: %d" % kv for kv in sorted(attempts.items())))
    print("# outcomes in the audit log: %s" % ", ".join(
        "%s %d" % kv for kv in sorted(outcomes.items())))
    return 0 if all(ok for ok, _, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
