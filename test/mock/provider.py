#!/usr/bin/env python3
"""Mock of the outbound providers cadence talks to, for end-to-end tests and benchmarks.

One process serves, over plain HTTP/1.1 (keep-alive), imitations of:

  * Twilio Messages API      POST /2010-04-01/Accounts/{AccountSid}/Messages.json
  * Resend                   POST /emails
  * SendGrid v3              POST /v3/mail/send
  * Postmark                 POST /email
  * WhatsApp Cloud API       POST /{version}/{phone-number-id}/messages
  * Anthropic Messages API   POST /v1/messages
  * Standard Webhooks sink   POST /hooks/...

plus a small ESMTP server (no TLS) on a second port.  Every request and every
SMTP message is recorded in memory and can be inspected, together with failure
injection, through a JSON control API under /_mock/:

  GET  /_mock/requests[?kind=twilio[,resend]][&since=N]  recorded requests
  GET  /_mock/keys[?kind=...]            per idempotency key, every request seen
                                         and what it was answered
  GET  /_mock/stats                      counters (total, byKind, byStatus, ...)
  POST /_mock/reset                      forget records, rules, idempotency keys;
                                         chaos off, deduplication on
  POST /_mock/fail                       add an HTTP failure rule
  GET  /_mock/fail                       list pending failure rules
  POST /_mock/chaos                      fail provider requests at random, seeded
  POST /_mock/dedupe                     honour Idempotency-Key or not
  POST /_mock/smtp-fail                  make the next SMTP transactions fail
  POST /_mock/webhook-secret             set/clear the Standard Webhooks secret
  GET  /_mock/health                     liveness probe

Every provider request's record says what the mock did with it: "answer" is
accepted (the message was delivered), replayed (an idempotent repeat: not
delivered again), refused (an error status), hung (held past the client's
patience, then closed unanswered) or cut (the connection closed mid-answer);
"delivered" is true when the provider acted on it.  A cut normally comes
before the provider acted; chaos's pLost cuts the answer of a request it did
deliver (an answer lost on the way back).

Run:

  python3 test/mock/provider.py --port 8025 --smtp-port 8026 [--host 127.0.0.1]
                                [--webhook-secret whsec_...] [--quiet | --verbose]

Port 0 picks a free port.  Once both servers accept connections the process
prints one line to stdout:

  mock provider listening on http://127.0.0.1:PORT smtp://127.0.0.1:SMTPPORT

and then serves until SIGTERM or SIGINT (exit status 0).  Standard library
only (Python 3.11).  Nothing is logged per request unless --verbose is given.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import http.server
import json
import math
import random
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

MAX_BODY = 64 * 1024 * 1024          # largest HTTP request body accepted
SMTP_MAX_SIZE = 10 * 1024 * 1024     # advertised SIZE limit
SMTP_MAX_LINE = 8192                 # longest SMTP command/data line read at once
SMTP_HOSTNAME = "mock.cadence.test"

# Random failures (/_mock/chaos): each mode and the setting of its probability.
CHAOS_MODES = (("500", "p500"), ("429", "p429"), ("hang", "pHang"), ("cut", "pCut"),
               ("lost", "pLost"))

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def random_string(alphabet, length):
    """Random string of `length` characters drawn from `alphabet`."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def now_iso():
    """Current UTC time as ISO 8601 with an explicit offset."""
    return datetime.now(timezone.utc).isoformat()


def status_phrase(status):
    """Reason phrase for an HTTP status code ("Unknown" if non-standard)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Overloaded" if status == 529 else "Unknown"


# --------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------

class MockState:
    """Everything the servers share: records, failure rules, idempotency keys.

    One lock protects all of it.  Records are plain dicts appended in arrival
    order; a request's record is created when it arrives and completed (status
    and notes) just before its answer is sent.
    """

    def __init__(self, webhook_secret=None, webhook_tolerance=300):
        self.lock = threading.Lock()
        self.default_webhook_secret = webhook_secret
        self.default_webhook_tolerance = webhook_tolerance
        with self.lock:
            self._clear()

    def _clear(self):
        self.records = []
        self.seq = 0
        self.rules = []
        self.rule_ids = 0
        self.smtp_rules = []
        self.idempotency = {}        # (scope, key) -> (fingerprint, Reply or None)
        self.webhook_ids = set()     # webhook-id values already accepted
        self.webhook_secret = self.default_webhook_secret
        self.webhook_tolerance = self.default_webhook_tolerance
        self.by_kind = {}
        self.by_status = {}
        self.duplicates = 0
        self.failed = 0
        self.chaos = None            # random failure settings, or None
        self.chaos_rng = None
        self.dedupe = True           # honour Idempotency-Key

    def reset(self):
        """Forget records, failure rules and idempotency memory."""
        with self.lock:
            self._clear()

    # -- records ---------------------------------------------------------

    def begin(self, record):
        """Assign the next sequence number and append `record`."""
        with self.lock:
            self.seq += 1
            record["seq"] = self.seq
            self.records.append(record)
            kind = record["kind"]
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        return record

    def finish(self, record, status, notes=None):
        """Complete `record` with the answered status and extra notes."""
        with self.lock:
            record["status"] = status
            if notes:
                record.update(notes)
            key = str(status)
            self.by_status[key] = self.by_status.get(key, 0) + 1
            if record.get("duplicate"):
                self.duplicates += 1
            if record.get("failed"):
                self.failed += 1

    def by_key(self, kinds=None):
        """Per idempotency key, what each of its requests got, in order."""
        with self.lock:
            keys = {}
            for r in self.records:
                key = r.get("idempotencyKey")
                if key is None or (kinds is not None and r["kind"] not in kinds):
                    continue
                keys.setdefault(key, []).append(
                    {"seq": r["seq"], "at": r["at"], "kind": r["kind"], "status": r["status"],
                     "answer": r.get("answer"), "delivered": bool(r.get("delivered"))})
            return keys

    # -- random failures ---------------------------------------------------

    def set_chaos(self, settings):
        """Fail requests at random from now on (None: stop)."""
        with self.lock:
            self.chaos = settings
            self.chaos_rng = random.Random(settings["seed"]) if settings else None

    def draw_fault(self, kind):
        """The random failure for the next request of `kind`, or None."""
        with self.lock:
            c = self.chaos
            if c is None or (c["kind"] is not None and c["kind"] != kind):
                return None
            x = self.chaos_rng.random()
            for mode, p in CHAOS_MODES:
                x -= c[p]
                if x < 0:
                    return dict(c, mode=mode,
                                retryAfter=c["retryAfter"] if mode == "429" else None)
            return None

    def set_dedupe(self, on):
        with self.lock:
            self.dedupe = on

    def deduplicating(self):
        with self.lock:
            return self.dedupe

    def snapshot(self, kinds=None, since=0):
        """Shallow copies of the records matching `kinds` with seq > since."""
        with self.lock:
            # seq numbers run 1, 2, 3... in list order, so records[since:]
            # are exactly those with seq > since.
            start = min(len(self.records), max(0, since))
            return [dict(r) for r in self.records[start:]
                    if r["seq"] > since and (kinds is None or r["kind"] in kinds)]

    def stats(self):
        """Counters over everything recorded since the last reset."""
        with self.lock:
            return {"total": len(self.records),
                    "byKind": dict(self.by_kind),
                    "byStatus": dict(self.by_status),
                    "duplicates": self.duplicates,
                    "failed": self.failed,
                    "pendingRules": len(self.rules),
                    "pendingSmtpRules": len(self.smtp_rules)}

    # -- failure rules ---------------------------------------------------

    def add_rule(self, rule):
        """Append an HTTP failure rule; returns it with its id."""
        with self.lock:
            self.rule_ids += 1
            rule["id"] = self.rule_ids
            self.rules.append(rule)
            return dict(rule)

    def take_rule(self, kind, path):
        """Consume one use of the first rule matching this request, if any."""
        with self.lock:
            for i, rule in enumerate(self.rules):
                if rule["kind"] is not None and rule["kind"] != kind:
                    continue
                if rule["path"] is not None and not path.startswith(rule["path"]):
                    continue
                if rule["times"] > 0:
                    rule["times"] -= 1
                    if rule["times"] == 0:
                        del self.rules[i]
                return dict(rule)
        return None

    def list_rules(self):
        with self.lock:
            return [dict(r) for r in self.rules], [dict(r) for r in self.smtp_rules]

    def add_smtp_rule(self, rule):
        with self.lock:
            self.smtp_rules.append(rule)

    def take_smtp_rule(self):
        """Consume one use of the first SMTP failure rule, if any."""
        with self.lock:
            if not self.smtp_rules:
                return None
            rule = self.smtp_rules[0]
            if rule["times"] > 0:
                rule["times"] -= 1
                if rule["times"] == 0:
                    self.smtp_rules.pop(0)
            return dict(rule)

    # -- idempotency -----------------------------------------------------

    def idem_begin(self, scope, key, fingerprint):
        """Look up an idempotency key before processing a request.

        Returns ("new", None) after reserving the key, ("replay", reply),
        ("conflict", None) for a different payload, or ("busy", None) while
        the first request with that key is still being processed.
        """
        with self.lock:
            entry = self.idempotency.get((scope, key))
            if entry is None:
                self.idempotency[(scope, key)] = (fingerprint, None)
                return "new", None
            stored_fp, reply = entry
            if stored_fp != fingerprint:
                return "conflict", None
            if reply is None:
                return "busy", None
            return "replay", reply

    def idem_finish(self, scope, key, reply):
        """Remember a successful reply for the key, or release the key."""
        with self.lock:
            entry = self.idempotency.get((scope, key))
            if entry is None:
                return
            if reply is None:
                del self.idempotency[(scope, key)]
            else:
                self.idempotency[(scope, key)] = (entry[0], reply)

    # -- webhooks ----------------------------------------------------------

    def webhook_config(self):
        with self.lock:
            return self.webhook_secret, self.webhook_tolerance

    def set_webhook_config(self, secret, tolerance):
        with self.lock:
            self.webhook_secret = secret
            self.webhook_tolerance = tolerance

    def note_webhook_id(self, msg_id):
        """Remember an accepted webhook-id; True if it was seen before."""
        with self.lock:
            seen = msg_id in self.webhook_ids
            self.webhook_ids.add(msg_id)
            return seen


# --------------------------------------------------------------------------
# Requests and replies
# --------------------------------------------------------------------------

class Reply:
    """An HTTP answer: status, body bytes, extra headers, notes for the record."""

    __slots__ = ("status", "body", "headers", "notes")

    def __init__(self, status, payload=None, headers=(), **notes):
        self.status = status
        if payload is None:
            self.body = b""
        elif isinstance(payload, bytes):
            self.body = payload
        else:
            self.body = json.dumps(payload).encode()
        self.headers = list(headers)
        if payload is not None and not any(k.lower() == "content-type" for k, _ in self.headers):
            self.headers.insert(0, ("Content-Type", "application/json; charset=utf-8"))
        self.notes = notes

    def replayed(self):
        """A copy of this reply flagged as an idempotent replay."""
        copy = Reply(self.status, None, self.headers, **self.notes)
        copy.body = self.body
        copy.notes["duplicate"] = True
        return copy


class Exchange:
    """One provider request as seen by a handler."""

    def __init__(self, method, path, query, headers, raw, match):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers      # lower-cased name -> value
        self.raw = raw              # body bytes
        self.match = match          # route regex match
        self._json = None
        self._json_done = False

    def json(self):
        """The body parsed as JSON, or None if it is not valid JSON."""
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.raw) if self.raw else None
            except ValueError:
                self._json = None
        return self._json

    def json_object(self):
        """The body as a JSON object (dict), or None."""
        data = self.json()
        return data if isinstance(data, dict) else None

    def form(self):
        """The body parsed as a urlencoded form; first value of each name."""
        fields = {}
        for name, value in parse_qsl(self.raw.decode("utf-8", "replace"), keep_blank_values=True):
            fields.setdefault(name, value)
        return fields

    def bearer(self):
        """The token of an `Authorization: Bearer` header, or None."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def basic_auth(self):
        """(user, password) from an `Authorization: Basic` header, or (None, None)."""
        scheme, _, blob = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            decoded = base64.b64decode(blob.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else (None, None)

    def fingerprint(self):
        """Stable digest of the payload, insensitive to JSON formatting."""
        data = self.json()
        if data is not None:
            blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        else:
            blob = self.raw
        return hashlib.sha256(blob).hexdigest()


def with_idempotency(state, ex, scope, produce, conflict, busy):
    """Run `produce()` under Idempotency-Key semantics (Resend style).

    The same key with the same payload replays the first successful answer
    (recorded with "duplicate": true); with another payload answers
    `conflict()`; while the first request is in flight answers `busy()`.
    Unsuccessful answers are not remembered, so the key may be retried.
    """
    key = ex.headers.get("idempotency-key")
    if key is None or not state.deduplicating():
        return produce()
    verdict, stored = state.idem_begin(scope, key, ex.fingerprint())
    if verdict == "replay":
        return stored.replayed()
    if verdict == "conflict":
        return conflict()
    if verdict == "busy":
        return busy()
    reply = None
    try:
        reply = produce()
    finally:
        ok = reply is not None and 200 <= reply.status < 300
        state.idem_finish(scope, key, reply if ok else None)
    return reply


# --------------------------------------------------------------------------
# Provider error shapes
# --------------------------------------------------------------------------

def twilio_error(status, code, message):
    return {"code": code, "message": message,
            "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status}


def resend_error(status, name, message):
    return {"statusCode": status, "message": message, "name": name}


def sendgrid_error(message, field=None, help_url=None):
    return {"errors": [{"message": message, "field": field, "help": help_url}]}


def postmark_error(code, message):
    return {"ErrorCode": code, "Message": message}


def graph_error(code, message, error_type="OAuthException"):
    return {"error": {"message": message, "type": error_type, "code": code,
                      "fbtrace_id": random_string(BASE62, 23)}}


def anthropic_error(error_type, message):
    return {"type": "error", "error": {"type": error_type, "message": message},
            "request_id": "req_01" + random_string(BASE58, 22)}


TWILIO_CODES = {400: 21211, 401: 20003, 403: 20403, 404: 20404, 429: 20429,
                500: 20500, 503: 20503}
RESEND_NAMES = {400: "validation_error", 401: "missing_api_key", 403: "invalid_api_key",
                404: "not_found", 409: "invalid_idempotent_request",
                422: "validation_error", 429: "rate_limit_exceeded"}
POSTMARK_CODES = {400: 300, 401: 10, 422: 300}
GRAPH_CODES = {400: (100, "(#100) Invalid parameter"),
               401: (190, "Invalid OAuth access token - Cannot parse access token"),
               429: (130429, "(#130429) Rate limit hit")}
ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                   403: "permission_error", 404: "not_found_error",
                   413: "request_too_large", 429: "rate_limit_error",
                   500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}


def injected_error(kind, status):
    """The error body provider `kind` would send with HTTP `status`."""
    phrase = status_phrase(status)
    if kind == "twilio":
        return twilio_error(status, TWILIO_CODES.get(status, 20001 if status < 500 else 20500), phrase)
    if kind == "resend":
        name = RESEND_NAMES.get(status, "application_error" if status >= 500 else "validation_error")
        return resend_error(status, name, phrase)
    if kind == "sendgrid":
        return sendgrid_error(phrase.lower())
    if kind == "postmark":
        return postmark_error(POSTMARK_CODES.get(status, status), phrase)
    if kind == "whatsapp":
        code, message = GRAPH_CODES.get(status, (131000, "(#131000) Something went wrong"))
        return graph_error(code, message)
    if kind == "anthropic":
        return anthropic_error(ANTHROPIC_TYPES.get(status, "api_error"), phrase)
    if kind == "webhook":
        return {"ok": False, "error": phrase}
    return {"error": phrase}


# --------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_segments(text):
    """Number of SMS segments `text` needs (GSM-7 or UCS-2)."""
    septets = 0
    for ch in text:
        if ch in GSM7_BASIC:
            septets += 1
        elif ch in GSM7_EXTENDED:
            septets += 2
        else:
            units = len(text.encode("utf-16-le")) // 2
            return 1 if units <= 70 else math.ceil(units / 67)
    return 1 if septets <= 160 else math.ceil(septets / 153)


# Twilio test-credential magic "To" numbers and the errors they trigger.
TWILIO_MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable using "
                            "the 'From' phone number via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region "
                            "indicated by the 'To' number: {to}."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


def handle_twilio(state, ex):
    """Twilio: create a Message (form-encoded, HTTP Basic auth) -> 201."""
    account_sid = ex.match.group(1)
    user, password = ex.basic_auth()
    if not user or not password or (user != account_sid and not user.startswith("SK")):
        return Reply(401, twilio_error(401, 20003, "Authenticate"),
                     [("WWW-Authenticate", 'Basic realm="Twilio API"')])
    form = ex.form()
    to = form.get("To", "").strip()
    sender = form.get("From", "").strip()
    service = form.get("MessagingServiceSid", "").strip()
    body = form.get("Body", "")
    if not to:
        return Reply(400, twilio_error(400, 21604, "A 'To' phone number is required."))
    if not sender and not service:
        return Reply(400, twilio_error(400, 21603, "A 'From' phone number is required."))
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        return Reply(400, twilio_error(400, 21602, "Message body is required."))
    if len(body) > 1600:
        return Reply(400, twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."))
    if to in TWILIO_MAGIC_TO:
        code, message = TWILIO_MAGIC_TO[to]
        return Reply(400, twilio_error(400, code, message.format(to=to)))
    sid = "SM" + secrets.token_hex(16)
    created = format_datetime(datetime.now(timezone.utc).replace(microsecond=0))
    base = "/2010-04-01/Accounts/%s/Messages/%s" % (account_sid, sid)
    message = {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender or None,
        "messaging_service_sid": service or None,
        "num_media": "1" if form.get("MediaUrl") else "0",
        "num_segments": str(sms_segments(body)) if body else "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": base + "/Media.json"},
        "to": to,
        "uri": base + ".json",
    }
    return Reply(201, message, providerId=sid)


def handle_resend(state, ex):
    """Resend: send an email (JSON, Bearer key, Idempotency-Key) -> 200 {"id"}."""
    if ex.bearer() is None:
        return Reply(401, resend_error(401, "missing_api_key",
                                       "Missing API key in the authorization header."))
    key = ex.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 256:
        return Reply(400, resend_error(400, "invalid_idempotency_key",
                                       "The key must be between 1-256 chars."))
    data = ex.json_object()
    if data is None:
        return Reply(400, resend_error(400, "validation_error",
                                       "Invalid JSON in request body."))

    def send():
        for field in ("from", "to", "subject"):
            value = data.get(field)
            if not value or (isinstance(value, list) and not all(value)):
                return Reply(422, resend_error(422, "missing_required_field",
                                               "Missing `%s` field." % field))
        email_id = str(uuid.uuid4())
        return Reply(200, {"id": email_id}, providerId=email_id)

    return with_idempotency(
        state, ex, "resend", send,
        conflict=lambda: Reply(409, resend_error(
            409, "invalid_idempotent_request",
            "Same idempotency key used with a different request payload. "
            "Change your idempotency key or payload.")),
        busy=lambda: Reply(409, resend_error(
            409, "concurrent_idempotent_requests",
            "Same idempotency key used while original request is still in progress. "
            "Try the request again later.")))


SENDGRID_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def sendgrid_validate(data):
    """First SendGrid v3 validation error for `data` as a Reply, or None."""
    def bad(message, field, anchor):
        return Reply(400, sendgrid_error(message, field, SENDGRID_HELP + anchor))

    personalizations = data.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return bad("The personalizations field is required and must have at least one "
                   "personalization.", "personalizations", "#-Personalizations-Errors")
    for i, p in enumerate(personalizations):
        to = p.get("to") if isinstance(p, dict) else None
        if (not isinstance(to, list) or not to
                or not all(isinstance(t, dict) and t.get("email") for t in to)):
            return bad("The to array is required for all personalization objects, and must "
                       "have at least one email object with a valid email address.",
                       "personalizations.%d.to" % i, "#message.personalizations.to")
    sender = data.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        return bad("The from object must be provided for every email send. It is an object "
                   "that requires the email parameter, but may also contain a name parameter.",
                   "from.email", "#message.from")
    has_template = bool(data.get("template_id"))
    if not data.get("subject") and not has_template and not all(
            isinstance(p, dict) and p.get("subject") for p in personalizations):
        return bad("The subject is required. You can get around this requirement if you use a "
                   "template with a subject defined or if every personalization has a subject "
                   "defined.", "subject", "#message.subject")
    content = data.get("content")
    if not has_template and (not isinstance(content, list) or not content):
        return bad("Unless a valid template_id is provided, the content parameter is required. "
                   "There must be at least one defined content block. We typically suggest both "
                   "text/plain and text/html blocks are included, but only one block is required.",
                   "content", "#message.content")
    for i, block in enumerate(content or []):
        if not isinstance(block, dict) or not block.get("type"):
            return bad("The content type must be a string at least one character in length.",
                       "content.%d.type" % i, "#message.content.type")
        if not isinstance(block.get("value"), str) or not block["value"]:
            return bad("The content value must be a string at least one character in length.",
                       "content.%d.value" % i, "#message.content.value")
    return None


def handle_sendgrid(state, ex):
    """SendGrid v3 mail/send (JSON, Bearer key) -> 202, empty body, X-Message-Id."""
    if ex.bearer() is None:
        return Reply(401, sendgrid_error("authorization required"))
    data = ex.json_object()
    if data is None:
        return Reply(400, sendgrid_error("Bad Request"))

    def send():
        problem = sendgrid_validate(data)
        if problem is not None:
            return problem
        message_id = secrets.token_urlsafe(16)          # 22 characters
        return Reply(202, None, [("X-Message-Id", message_id)], providerId=message_id)

    return with_idempotency(
        state, ex, "sendgrid", send,
        conflict=lambda: Reply(409, sendgrid_error(
            "Same idempotency key used with a different request payload.", "Idempotency-Key")),
        busy=lambda: Reply(409, sendgrid_error(
            "Same idempotency key used while original request is still in progress.",
            "Idempotency-Key")))


def handle_postmark(state, ex):
    """Postmark single email (JSON, X-Postmark-Server-Token) -> 200."""
    if not ex.headers.get("x-postmark-server-token"):
        return Reply(401, postmark_error(
            10, "No Account or Server API tokens were supplied in the HTTP headers. Please add "
                "a header for either X-Postmark-Server-Token or X-Postmark-Account-Token."))
    data = ex.json_object()
    if data is None:
        return Reply(422, postmark_error(402, "Received invalid JSON input."))
    if not data.get("To"):
        return Reply(422, postmark_error(300, "Zero recipients specified"))
    if not data.get("From"):
        return Reply(422, postmark_error(300, "Invalid 'From' address: ''."))
    if not data.get("HtmlBody") and not data.get("TextBody") and not data.get("TemplateId"):
        return Reply(422, postmark_error(300, "Provide either email TextBody or HtmlBody or both."))
    message_id = str(uuid.uuid4())
    return Reply(200, {"To": data["To"], "SubmittedAt": now_iso(), "MessageID": message_id,
                       "ErrorCode": 0, "Message": "OK"}, providerId=message_id)


def handle_whatsapp(state, ex):
    """WhatsApp Cloud API: send a message (JSON, Bearer token) -> 200."""
    if ex.bearer() is None:
        return Reply(401, graph_error(104, "An access token is required to request this resource."))
    data = ex.json_object()
    if data is None:
        return Reply(400, graph_error(100, "(#100) Invalid parameter"))

    def bad(message):
        return Reply(400, graph_error(100, "(#100) " + message))

    product = data.get("messaging_product")
    if not product:
        return bad("The parameter messaging_product is required.")
    if product != "whatsapp":
        return bad("Param messaging_product must be one of {WHATSAPP} - got \"%s\"." % product)
    to = data.get("to")
    if not to or not isinstance(to, str):
        return bad("The parameter to is required.")
    msg_type = data.get("type") or "text"
    obj = data.get(msg_type)
    if not isinstance(obj, dict):
        return bad("The parameter %s is required." % msg_type)
    if msg_type == "text" and not obj.get("body"):
        return bad("Param text['body'] is required.")
    if msg_type == "template":
        if not obj.get("name"):
            return bad("Param template['name'] is required.")
        language = obj.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            return bad("Param template['language']['code'] is required.")
    wamid = "wamid.HBgL" + base64.b64encode(secrets.token_bytes(30)).decode()
    message = {"id": wamid}
    if msg_type == "template":
        message["message_status"] = "accepted"
    return Reply(200, {"messaging_product": "whatsapp",
                       "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
                       "messages": [message]}, providerId=wamid)


def text_of(content):
    """Text of a message `content`: a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(block.get("text", "") for block in content
                         if isinstance(block, dict) and block.get("type") == "text")
    return ""


def handle_anthropic(state, ex):
    """Anthropic Messages API -> 200 with deterministic "[personalized] ..." text."""
    if not ex.headers.get("x-api-key"):
        return Reply(401, anthropic_error("authentication_error", "x-api-key header is required"))
    if not ex.headers.get("anthropic-version"):
        return Reply(400, anthropic_error("invalid_request_error",
                                          "anthropic-version: header is required"))
    data = ex.json_object()
    if data is None:
        return Reply(400, anthropic_error("invalid_request_error",
                                          "The request body is not valid JSON."))
    for field in ("model", "max_tokens", "messages"):
        if field not in data:
            return Reply(400, anthropic_error("invalid_request_error", "%s: Field required" % field))
    max_tokens = data["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return Reply(400, anthropic_error("invalid_request_error",
                                          "max_tokens: Input should be a valid positive integer"))
    messages = data["messages"]
    if not isinstance(messages, list) or not messages:
        return Reply(400, anthropic_error("invalid_request_error",
                                          "messages: at least one message is required"))
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            return Reply(400, anthropic_error(
                "invalid_request_error", "messages.%d.role: Input should be 'user' or 'assistant'" % i))
    prompt = ""
    for msg in reversed(messages):
        if msg.get("role") == "user":
            prompt = text_of(msg.get("content"))
            break
    text = "[personalized] " + prompt
    input_chars = len(text_of(data.get("system", ""))) + sum(
        len(text_of(m.get("content"))) for m in messages)
    msg_id = "msg_01" + random_string(BASE58, 22)
    return Reply(200, {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": data["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": max(1, math.ceil(input_chars / 4)),
                  "output_tokens": max(1, math.ceil(len(text) / 4))},
    }, [("request-id", "req_01" + random_string(BASE58, 22))], providerId=msg_id)


def webhook_key(secret):
    """HMAC key for a Standard Webhooks secret ("whsec_" + base64)."""
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret, validate=True)


def handle_webhook(state, ex):
    """Standard Webhooks receiver: verify the signature when a secret is set."""
    secret, tolerance = state.webhook_config()
    msg_id = ex.headers.get("webhook-id")
    timestamp = ex.headers.get("webhook-timestamp")
    signature = ex.headers.get("webhook-signature")
    if secret is None:
        reply = Reply(200, {"ok": True}, signatureValid=None)
    elif not (msg_id and timestamp and signature):
        return Reply(401, {"ok": False, "error": "missing webhook headers"},
                     signatureValid=False, timestampValid=None)
    else:
        signed = ("%s.%s." % (msg_id, timestamp)).encode() + ex.raw
        expected = base64.b64encode(
            hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()).decode()
        valid = False
        for part in signature.split():
            version, _, value = part.partition(",")
            if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
                valid = True
        try:
            fresh = not tolerance or abs(time.time() - int(timestamp)) <= tolerance
        except ValueError:
            fresh = False
        if not valid:
            return Reply(401, {"ok": False, "error": "invalid signature"},
                         signatureValid=False, timestampValid=fresh)
        if not fresh:
            return Reply(401, {"ok": False, "error": "timestamp outside tolerance"},
                         signatureValid=True, timestampValid=False)
        reply = Reply(200, {"ok": True}, signatureValid=True, timestampValid=True)
    if msg_id and state.note_webhook_id(msg_id):
        reply.notes["duplicate"] = True
    return reply


def handle_unknown(state, ex):
    """Anything unrouted -> 404."""
    return Reply(404, {"error": "not found"})


ROUTES = [
    (re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$"), "twilio", handle_twilio),
    (re.compile(r"^/emails/?$"), "resend", handle_resend),
    (re.compile(r"^/v3/mail/send/?$"), "sendgrid", handle_sendgrid),
    (re.compile(r"^/email/?$"), "postmark", handle_postmark),
    (re.compile(r"^/v1/messages/?$"), "anthropic", handle_anthropic),
    (re.compile(r"^/v\d+(?:\.\d+)?/([^/]+)/messages/?$"), "whatsapp", handle_whatsapp),
    (re.compile(r"^/hooks(?:/.*)?$"), "webhook", handle_webhook),
]


def route(path):
    """(kind, handler, match) for a provider path."""
    for pattern, kind, handler in ROUTES:
        match = pattern.match(path)
        if match:
            return kind, handler, match
    return "unknown", handle_unknown, None


def render_record(r):
    """A record as served by /_mock/requests (JSON and form parsed lazily)."""
    if r["kind"] == "smtp":
        return r
    out = {k: r[k] for k in ("seq", "at", "method", "path", "query", "headers", "body")}
    content_type = r["headers"].get("content-type", "").lower()
    body = r["body"]
    parsed = None
    if body and ("json" in content_type or body.lstrip()[:1] in ("{", "[")):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    out["json"] = parsed
    form = None
    if "application/x-www-form-urlencoded" in content_type:
        form = {}
        for name, value in parse_qsl(body, keep_blank_values=True):
            form.setdefault(name, value)
    out["form"] = form
    for key, value in r.items():
        if key not in out:
            out[key] = value
    return out


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

class BadRequest(Exception):
    """A malformed request (framing, JSON) answered with 400."""


class MockHTTPServer(http.server.ThreadingHTTPServer):
    """Threaded HTTP/1.1 server: one daemon thread per connection."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address, handler, state, verbose):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.verbose = verbose
        super().__init__(address, handler)

    def server_bind(self):
        # Skip HTTPServer's reverse-DNS lookup (socket.getfqdn) of the host.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class MockHTTPHandler(http.server.BaseHTTPRequestHandler):
    """Routes each request to the control API or to a provider handler."""

    protocol_version = "HTTP/1.1"
    server_version = "cadence-mock/1.0"
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024          # headers and body leave in one write
    timeout = 300                 # idle keep-alive connections are dropped after this

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()        # the interim answer must not wait in the buffer
        return ok

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing ----------------------------------------------------------

    def read_body(self):
        """The request body, honouring Content-Length or chunked encoding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("bad chunk size")
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass      # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise BadRequest("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise BadRequest("bad Content-Length")
        if n < 0 or n > MAX_BODY:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(n)

    def send(self, reply):
        """Write `reply` with an exact Content-Length."""
        self.send_response(reply.status, status_phrase(reply.status))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def send_cut(self, reply):
        """Start `reply`, promising more body than comes, then close."""
        self.send_response(reply.status, status_phrase(reply.status))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body) + 64))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()
        self.drop_connection()

    def drop_connection(self):
        """Close the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dispatch(self):
        url = urlsplit(self.path)
        try:
            raw = self.read_body()
        except BadRequest as exc:
            self.close_connection = True
            self.send(Reply(400, {"error": str(exc)}, [("Connection", "close")]))
            return
        try:
            if url.path == "/_mock" or url.path.startswith("/_mock/"):
                self.send(self.control(url, raw))
            else:
                self.provider(url, raw)
        except Exception as exc:            # a bug in the mock: say so loudly
            traceback.print_exc()
            self.close_connection = True
            self.send(Reply(500, {"error": "mock internal error", "detail": repr(exc)},
                            [("Connection", "close")]))

    # -- provider endpoints ------------------------------------------------

    def provider(self, url, raw):
        """Record a provider request, apply failure rules, answer it."""
        state = self.server.state
        arrived = time.time()
        kind, handler, match = route(url.path)
        headers = {}
        for name, value in self.headers.items():
            name = sys.intern(name.lower())
            headers[name] = headers[name] + ", " + value if name in headers else value
        if kind == "webhook":
            idem_key = headers.get("webhook-id")
        else:
            idem_key = headers.get("idempotency-key")
        record = state.begin({
            "seq": 0, "at": arrived, "method": self.command, "path": url.path,
            "query": url.query, "headers": headers,
            "body": raw.decode("utf-8", "replace"), "kind": kind, "status": None,
            "idempotencyKey": idem_key,
        })

        failed = None
        rule = state.take_rule(kind, url.path)
        if rule is None:
            rule = state.draw_fault(kind)
            if rule is not None and rule["mode"] in ("hang", "cut", "lost"):
                self.chaos_fault(rule, record, kind, url, headers, raw, handler, match)
                return
        if rule is not None:
            mode = rule["mode"]
            if mode == "close":
                state.finish(record, None, {"failed": "close", "answer": "closed"})
                self.drop_connection()
                return
            if mode == "hang":
                time.sleep(rule["hangSeconds"])
                failed = "hang"
            else:
                status = int(mode)
                extra = []
                if rule.get("retryAfter") is not None:
                    extra.append(("Retry-After", str(rule["retryAfter"])))
                payload = rule.get("body")
                if payload is None:
                    payload = injected_error(kind, status)
                elif isinstance(payload, str):
                    payload = payload.encode()
                else:
                    payload = json.dumps(payload).encode()
                reply = Reply(status, payload, extra)
                time.sleep(rule.get("delaySeconds") or 0)
                state.finish(record, status, {"failed": mode, "answer": "refused"})
                self.send(reply)
                return

        reply = self.answer(kind, url, headers, raw, handler, match)
        notes = self.outcome(reply)
        if failed:
            notes["failed"] = failed
        state.finish(record, reply.status, notes)
        self.send(reply)

    def answer(self, kind, url, headers, raw, handler, match):
        """The provider's own answer to a request."""
        ex = Exchange(self.command, url.path, url.query, headers, raw, match)
        if self.command != "POST" and kind != "unknown":
            return Reply(405, {"error": "method not allowed"}, [("Allow", "POST")])
        return handler(self.server.state, ex)

    @staticmethod
    def outcome(reply):
        """The record's notes for an answer: what it was, whether it delivered."""
        notes = dict(reply.notes)
        ok = 200 <= reply.status < 300
        notes["answer"] = ("replayed" if notes.get("duplicate") else "accepted") if ok else "refused"
        notes["delivered"] = ok and not notes.get("duplicate")
        return notes

    def chaos_fault(self, rule, record, kind, url, headers, raw, handler, match):
        """A random hang, cut or lost answer (see /_mock/chaos)."""
        state = self.server.state
        mode = rule["mode"]
        if mode == "hang":
            time.sleep(rule["hangSeconds"])
            state.finish(record, None, {"failed": "hang", "answer": "hung"})
            self.drop_connection()
            return
        if mode == "lost":
            reply = self.answer(kind, url, headers, raw, handler, match)
            notes = self.outcome(reply)
        else:
            reply = Reply(503, injected_error(kind, 503))
            notes = {"delivered": False}
        notes.update({"failed": mode, "answer": "cut"})
        state.finish(record, reply.status, notes)
        self.send_cut(reply)

    # -- control API -------------------------------------------------------

    def control(self, url, raw):
        """The /_mock/ control API (never recorded)."""
        state = self.server.state
        action = url.path[len("/_mock"):].strip("/")
        method = self.command
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return Reply(400, {"error": "body is not valid JSON"})
        if not isinstance(data, dict):
            return Reply(400, {"error": "body must be a JSON object"})

        if action == "health" and method == "GET":
            return Reply(200, {"ok": True})
        if action == "requests" and method == "GET":
            return self.list_requests(url.query)
        if action == "keys" and method == "GET":
            return self.list_keys(url.query)
        if action == "chaos" and method == "POST":
            return self.set_chaos(data)
        if action == "dedupe" and method == "POST":
            if not isinstance(data.get("on"), bool):
                return Reply(400, {"error": "on must be true or false"})
            state.set_dedupe(data["on"])
            return Reply(200, {"ok": True})
        if action == "stats" and method == "GET":
            return Reply(200, state.stats())
        if action == "reset" and method == "POST":
            state.reset()
            return Reply(200, {"ok": True})
        if action == "fail" and method == "POST":
            return self.add_fail_rule(data)
        if action == "fail" and method == "GET":
            rules, smtp_rules = state.list_rules()
            return Reply(200, {"rules": rules, "smtpRules": smtp_rules})
        if action == "smtp-fail" and method == "POST":
            return self.add_smtp_rule(data)
        if action == "webhook-secret" and method == "POST":
            return self.set_webhook_secret(data)
        if action in ("health", "requests", "keys", "stats", "reset", "fail", "chaos",
                      "dedupe", "smtp-fail", "webhook-secret"):
            return Reply(405, {"error": "method not allowed"})
        return Reply(404, {"error": "unknown control endpoint"})

    def list_requests(self, query):
        """GET /_mock/requests?kind=a,b&since=N"""
        params = dict(parse_qsl(query))
        kinds = None
        if params.get("kind"):
            kinds = set(k.strip() for k in params["kind"].split(",") if k.strip())
        try:
            since = int(params.get("since", "0") or 0)
        except ValueError:
            return Reply(400, {"error": "since must be an integer"})
        records = self.server.state.snapshot(kinds, since)
        return Reply(200, {"requests": [render_record(r) for r in records]})

    def list_keys(self, query):
        """GET /_mock/keys?kind=a,b"""
        params = dict(parse_qsl(query))
        kinds = None
        if params.get("kind"):
            kinds = set(k.strip() for k in params["kind"].split(",") if k.strip())
        return Reply(200, {"keys": self.server.state.by_key(kinds)})

    def set_chaos(self, data):
        """POST /_mock/chaos {seed, kind?, p500?, p429?, retryAfter?, pHang?, hangSeconds?,
        pCut?, pLost?}: from now on each provider request (of kind, when given)
        fails at random with these probabilities, drawn from a generator
        seeded with seed, in arrival order; {} stops it."""
        if not data:
            self.server.state.set_chaos(None)
            return Reply(200, {"ok": True})
        try:
            settings = {"seed": int(data["seed"]), "kind": data.get("kind"),
                        "retryAfter": int(data.get("retryAfter", 1)),
                        "hangSeconds": float(data.get("hangSeconds", 30)), "body": None}
            for _, p in CHAOS_MODES:
                settings[p] = float(data.get(p, 0))
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"error": "seed is required; probabilities and times must be numbers"})
        if sum(settings[p] for _, p in CHAOS_MODES) > 1:
            return Reply(400, {"error": "the probabilities add up to more than 1"})
        self.server.state.set_chaos(settings)
        return Reply(200, {"ok": True, "chaos": settings})

    def add_fail_rule(self, data):
        """POST /_mock/fail {kind?, path?, mode, times?, retryAfter?, hangSeconds?,
        delaySeconds?, body?}: hang holds a request hangSeconds, then answers it
        as usual; an HTTP status answers after delaySeconds (0)."""
        mode = str(data.get("mode", "")).strip()
        if mode not in ("hang", "close") and not (mode.isdigit() and 400 <= int(mode) <= 599):
            return Reply(400, {"error": "mode must be an HTTP status 400-599, 'hang' or 'close'"})
        kind = data.get("kind")
        if kind == "smtp":
            return Reply(400, {"error": "use /_mock/smtp-fail for SMTP failures"})
        path = data.get("path")
        if path is not None and not isinstance(path, str):
            return Reply(400, {"error": "path must be a string prefix"})
        try:
            times = int(data.get("times", 1))
            retry_after = data.get("retryAfter")
            retry_after = None if retry_after is None else int(retry_after)
            hang = float(data.get("hangSeconds", 30))
            delay = float(data.get("delaySeconds", 0))
        except (TypeError, ValueError):
            return Reply(400, {"error": "times, retryAfter, hangSeconds and delaySeconds must be numbers"})
        if times == 0 or times < -1:
            return Reply(400, {"error": "times must be positive or -1 (forever)"})
        rule = self.server.state.add_rule({
            "kind": kind, "path": path, "mode": mode, "times": times,
            "retryAfter": retry_after, "hangSeconds": hang, "delaySeconds": delay,
            "body": data.get("body")})
        return Reply(200, {"ok": True, "rule": rule})

    def add_smtp_rule(self, data):
        """POST /_mock/smtp-fail {times?, code, message?}"""
        try:
            times = int(data.get("times", 1))
            code = int(data.get("code", 451))
        except (TypeError, ValueError):
            return Reply(400, {"error": "times and code must be integers"})
        if not 400 <= code <= 599:
            return Reply(400, {"error": "code must be a 4xx or 5xx SMTP reply code"})
        if times == 0 or times < -1:
            return Reply(400, {"error": "times must be positive or -1 (forever)"})
        self.server.state.add_smtp_rule(
            {"times": times, "code": code, "message": data.get("message")})
        return Reply(200, {"ok": True})

    def set_webhook_secret(self, data):
        """POST /_mock/webhook-secret {secret: "whsec_..." | null, toleranceSeconds?}"""
        secret = data.get("secret")
        if secret is not None:
            try:
                webhook_key(str(secret))
            except (binascii.Error, ValueError):
                return Reply(400, {"error": "secret must be whsec_ followed by base64"})
            secret = str(secret)
        state = self.server.state
        tolerance = data.get("toleranceSeconds", state.webhook_config()[1])
        try:
            tolerance = float(tolerance or 0)
        except (TypeError, ValueError):
            return Reply(400, {"error": "toleranceSeconds must be a number"})
        state.set_webhook_config(secret, tolerance)
        return Reply(200, {"ok": True})


# --------------------------------------------------------------------------
# SMTP server
# --------------------------------------------------------------------------

class SMTPClosed(Exception):
    """The client went away."""


def parse_message_headers(text):
    """Header block of an RFC 5322 message as {lower-cased name: value}."""
    headers = {}
    lines = []
    for line in re.split(r"\r?\n", text):
        if line == "":
            break
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line            # unfold: drop the line break only
        else:
            lines.append(line)
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return headers


SMTP_FAIL_TEXT = {
    421: "4.3.0 Service not available (mock)",
    450: "4.2.0 Mailbox unavailable (mock)",
    451: "4.3.0 Temporary failure, try again later (mock)",
    452: "4.3.1 Insufficient system storage (mock)",
    550: "5.7.1 Message rejected (mock)",
    552: "5.3.4 Message size exceeds fixed limit (mock)",
    554: "5.6.0 Transaction failed (mock)",
}


class MockSMTPServer(socketserver.ThreadingTCPServer):
    """Threaded ESMTP server: one daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, handler, state, verbose):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.verbose = verbose
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, SMTPClosed)):
            return
        super().handle_error(request, client_address)


class MockSMTPHandler(socketserver.StreamRequestHandler):
    """One SMTP session: EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    timeout = 300
    disable_nagle_algorithm = True

    def reply(self, *lines):
        """Send a (possibly multi-line) reply; each line is "CODE text"."""
        out = []
        for i, line in enumerate(lines):
            code, _, text = line.partition(" ")
            sep = " " if i == len(lines) - 1 else "-"
            out.append("%s%s%s\r\n" % (code, sep, text))
        self.wfile.write("".join(out).encode())

    def read_line(self):
        """One command line without its line ending."""
        line = self.rfile.readline(SMTP_MAX_LINE + 2)
        if not line:
            raise SMTPClosed()
        if not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):   # discard the rest
                line = self.rfile.readline(SMTP_MAX_LINE)
            return None
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    def log(self, text):
        if self.server.verbose:
            sys.stderr.write("smtp %s %s\n" % (self.client_address[0], text))

    def reset_transaction(self):
        self.mail_from = None
        self.rcpt_to = []

    def handle(self):
        self.helo = None
        self.user = None
        self.reset_transaction()
        self.reply("220 %s ESMTP cadence mock" % SMTP_HOSTNAME)
        try:
            while True:
                line = self.read_line()
                if line is None:
                    self.reply("500 5.5.2 Error: line too long")
                    continue
                self.log(line if not line.upper().startswith("AUTH") else "AUTH ...")
                verb, _, arg = line.partition(" ")
                command = getattr(self, "smtp_" + verb.upper(), None)
                if command is None:
                    self.reply("502 5.5.2 Error: command not recognized")
                elif command(arg.strip()) is False:
                    break
        except SMTPClosed:
            pass

    def smtp_EHLO(self, arg):
        """EHLO: advertise extensions."""
        if not arg:
            return self.reply("501 5.5.4 Syntax: EHLO hostname")
        self.helo = arg
        self.reset_transaction()
        self.reply("250 %s" % SMTP_HOSTNAME, "250 PIPELINING", "250 SIZE %d" % SMTP_MAX_SIZE,
                   "250 8BITMIME", "250 ENHANCEDSTATUSCODES", "250 AUTH PLAIN LOGIN",
                   "250 SMTPUTF8")

    def smtp_HELO(self, arg):
        """HELO: plain SMTP greeting."""
        if not arg:
            return self.reply("501 5.5.4 Syntax: HELO hostname")
        self.helo = arg
        self.reset_transaction()
        self.reply("250 %s" % SMTP_HOSTNAME)

    def decode_b64(self, text):
        """Decode a SASL response; None (after replying) if cancelled or invalid."""
        if text == "*":
            self.reply("501 5.7.0 Authentication aborted")
            return None
        if text == "=":
            return b""
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            self.reply("501 5.5.2 Cannot decode response")
            return None

    def challenge(self, prompt):
        """Send a 334 challenge and return the decoded answer (or None)."""
        self.reply("334 " + prompt)
        return self.decode_b64(self.read_line() or "")

    def smtp_AUTH(self, arg):
        """AUTH PLAIN [initial] / AUTH LOGIN [initial]; any credentials pass."""
        if self.helo is None:
            return self.reply("503 5.5.1 Error: send HELO/EHLO first")
        if self.user is not None:
            return self.reply("503 5.5.1 Error: already authenticated")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 Error: MAIL transaction in progress")
        mechanism, _, initial = arg.partition(" ")
        mechanism, initial = mechanism.upper(), initial.strip()
        if mechanism == "PLAIN":
            blob = self.decode_b64(initial) if initial else self.challenge("")
            if blob is None:
                return
            parts = blob.split(b"\0")
            if len(parts) != 3 or not parts[1]:
                return self.reply("535 5.7.8 Error: authentication failed: malformed PLAIN")
            user = parts[1]
        elif mechanism == "LOGIN":
            user = self.decode_b64(initial) if initial else self.challenge("VXNlcm5hbWU6")
            if user is None:
                return
            if self.challenge("UGFzc3dvcmQ6") is None:
                return
        else:
            return self.reply("504 5.5.4 Unrecognized authentication type")
        self.user = user.decode("utf-8", "replace")
        self.reply("235 2.7.0 Authentication successful")

    def smtp_MAIL(self, arg):
        """MAIL FROM:<address> [parameters]"""
        if self.helo is None:
            return self.reply("503 5.5.1 Error: send HELO/EHLO first")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 Error: nested MAIL command")
        match = re.match(r"(?i)^FROM:\s*(?:<([^>]*)>|(\S+))(.*)$", arg)
        if not match:
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
        for param in match.group(3).split():
            name, _, value = param.partition("=")
            if name.upper() == "SIZE" and value.isdigit() and int(value) > SMTP_MAX_SIZE:
                return self.reply("552 5.3.4 Message size exceeds fixed limit")
        self.mail_from = match.group(1) if match.group(1) is not None else match.group(2)
        self.rcpt_to = []
        self.reply("250 2.1.0 Ok")

    def smtp_RCPT(self, arg):
        """RCPT TO:<address> [parameters]"""
        if self.mail_from is None:
            return self.reply("503 5.5.1 Error: need MAIL command")
        match = re.match(r"(?i)^TO:\s*(?:<([^>]*)>|(\S+))", arg)
        if not match or not (match.group(1) or match.group(2)):
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
        self.rcpt_to.append(match.group(1) if match.group(1) is not None else match.group(2))
        self.reply("250 2.1.5 Ok")

    def smtp_DATA(self, arg):
        """DATA: read the message up to "." and queue (or fail) it."""
        if arg:
            return self.reply("501 5.5.4 Syntax: DATA")
        if self.mail_from is None:
            return self.reply("503 5.5.1 Error: need MAIL command")
        if not self.rcpt_to:
            return self.reply("503 5.5.1 Error: need RCPT command")
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        chunks, size, oversized = [], 0, False
        while True:
            line = self.rfile.readline(65536)
            if not line:
                raise SMTPClosed()
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > SMTP_MAX_SIZE:
                oversized = True
            elif not oversized:
                chunks.append(line)
        state = self.server.state
        arrived = time.time()
        if oversized:
            self.reset_transaction()
            return self.reply("552 5.3.4 Message size exceeds fixed limit")
        body = b"".join(chunks).decode("utf-8", "replace")
        headers = parse_message_headers(body)
        record = {"seq": 0, "at": arrived, "method": "SMTP", "kind": "smtp",
                  "mailFrom": self.mail_from, "rcptTo": list(self.rcpt_to), "auth": self.user,
                  "helo": self.helo, "headers": headers, "body": body, "status": None,
                  "idempotencyKey": headers.get("x-cadence-idempotency-key",
                                                headers.get("message-id"))}
        state.begin(record)
        rule = state.take_smtp_rule()
        if rule is not None:
            code = rule["code"]
            text = rule.get("message") or SMTP_FAIL_TEXT.get(
                code, "%d.0.0 Mock failure" % (code // 100))
            state.finish(record, code, {"failed": str(code)})
            self.reply("%d %s" % (code, text))
        else:
            queue_id = secrets.token_hex(5).upper()
            state.finish(record, 250, {"providerId": queue_id})
            self.reply("250 2.0.0 Ok: queued as %s" % queue_id)
        self.reset_transaction()

    def smtp_RSET(self, arg):
        """RSET: abandon the current transaction."""
        self.reset_transaction()
        self.reply("250 2.0.0 Ok")

    def smtp_NOOP(self, arg):
        self.reply("250 2.0.0 Ok")

    def smtp_VRFY(self, arg):
        self.reply("252 2.0.0 Cannot VRFY user, but will accept message")

    def smtp_QUIT(self, arg):
        """QUIT: say goodbye and close."""
        self.reply("221 2.0.0 Bye")
        return False


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

def url_host(host):
    return "[%s]" % host if ":" in host else host


def main(argv=None):
    parser = argparse.ArgumentParser(description="Mock provider APIs and SMTP server for cadence tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8025, help="HTTP port (0 = pick a free one)")
    parser.add_argument("--smtp-port", type=int, default=8026, help="SMTP port (0 = pick a free one)")
    parser.add_argument("--webhook-secret", default=None,
                        help="Standard Webhooks secret (whsec_...) to verify /hooks/ deliveries")
    parser.add_argument("--webhook-tolerance", type=float, default=300,
                        help="max |now - webhook-timestamp| in seconds (0 = unchecked; default 300)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--quiet", action="store_true", help="no per-request logging (default)")
    noise.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    if args.webhook_secret is not None:
        try:
            webhook_key(args.webhook_secret)
        except (binascii.Error, ValueError):
            parser.error("--webhook-secret must be whsec_ followed by base64")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    state = MockState(args.webhook_secret, args.webhook_tolerance)
    try:
        http_server = MockHTTPServer((args.host, args.port), MockHTTPHandler, state, args.verbose)
    except OSError as exc:
        print("mock provider: cannot listen on %s:%d: %s" % (args.host, args.port, exc),
              file=sys.stderr)
        return 1
    try:
        smtp_server = MockSMTPServer((args.host, args.smtp_port), MockSMTPHandler, state,
                                     args.verbose)
    except OSError as exc:
        http_server.server_close()
        print("mock provider: cannot listen on %s:%d: %s" % (args.host, args.smtp_port, exc),
              file=sys.stderr)
        return 1
    servers = (http_server, smtp_server)
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()

    host = url_host(args.host)
    print("mock provider listening on http://%s:%d smtp://%s:%d"
          % (host, http_server.server_address[1], host, smtp_server.server_address[1]), flush=True)

    while not stop.wait(0.5):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
