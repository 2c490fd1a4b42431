#!/usr/bin/env python3
"""A third-party Mesos v1 scheduler written against the protocol, not against offerpack.

Python 3 standard library only. Usage:

    python3 tests/third_party_client.py http://127.0.0.1:5050

(a master URL, `host:port`, or the full `.../api/v1/scheduler` URL). It probes `GET /version`,
SUBSCRIBEs in JSON (`application/json`) and reads the chunked RecordIO event stream
(`<length>\n<record>`), waits for SUBSCRIBED and OFFERS, ACCEPTs one offer with a LAUNCH of one
task whose resources are taken from the offer (keeping the offer's role/allocation_info),
DECLINEs the other offers, ACKNOWLEDGEs every status update that carries a uuid (and none that
does not), and once TASK_FINISHED arrives (and is acknowledged) sends TEARDOWN and exits 0.

Exit codes: 0 finished; 1 timeout (30 s overall); 2 unexpected HTTP status or headers;
3 the task ended in another terminal state; 4 an ERROR event or a malformed stream.
"""

import base64
import http.client
import json
import sys
import time
import urllib.parse

TIMEOUT = 30.0
TASK_ID = "py-task-1"
WANT = {"cpus": 0.1, "mem": 32.0}
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
            "TASK_GONE", "TASK_GONE_BY_OPERATOR"}
JSON = "application/json"


def log(*args):
    print("[third-party]", *args, file=sys.stderr, flush=True)


def fail(code, message):
    log("FAIL:", message)
    sys.exit(code)


class Master:
    def __init__(self, url, deadline):
        if "//" not in url:
            url = "http://" + url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            fail(2, "need an http:// master URL, got %r" % url)
        self.host = parts.hostname
        self.port = parts.port or 5050
        self.path = parts.path if parts.path not in ("", "/") else "/api/v1/scheduler"
        self.deadline = deadline
        self.stream_id = None
        self.framework_id = None

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            fail(1, "timed out after %.0f s" % TIMEOUT)
        return left

    def connection(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.remaining())

    def version(self):
        conn = self.connection()
        conn.request("GET", "/version")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status != 200:
            fail(2, "GET /version answered %d" % resp.status)
        log("master version", json.loads(body)["version"])

    def call(self, body, expected=202):
        """POSTs one call on its own connection (the stream's connection is busy)."""
        body.setdefault("framework_id", {"value": self.framework_id})
        conn = self.connection()
        headers = {"Content-Type": JSON, "Accept": JSON, "Mesos-Stream-Id": self.stream_id}
        conn.request("POST", self.path, body=json.dumps(body).encode(), headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        if resp.status != expected:
            fail(2, "%s answered %d %s" % (body["type"], resp.status, text))
        log(body["type"], "->", resp.status)

    def subscribe(self):
        call = {
            "type": "SUBSCRIBE",
            "subscribe": {
                "framework_info": {"user": "root", "name": "third-party-py", "failover_timeout": 0},
            },
        }
        conn = self.connection()
        conn.request("POST", self.path, body=json.dumps(call).encode(),
                     headers={"Content-Type": JSON, "Accept": JSON})
        resp = conn.getresponse()
        if resp.status != 200:
            fail(2, "SUBSCRIBE answered %d %s" % (resp.status, resp.read()))
        if resp.getheader("Content-Type") != JSON:
            fail(2, "stream Content-Type %r" % resp.getheader("Content-Type"))
        if (resp.getheader("Transfer-Encoding") or "").lower() != "chunked":
            fail(2, "the stream is not chunked")
        self.stream_id = resp.getheader("Mesos-Stream-Id")
        if not self.stream_id:
            fail(2, "no Mesos-Stream-Id")
        log("subscribed, stream", self.stream_id)
        return resp


def read_exactly(resp, n):
    data = b""
    while len(data) < n:
        more = resp.read(n - len(data))
        if not more:
            fail(4, "the stream ended inside a record")
        data += more
    return data


def records(resp, master):
    """RecordIO: a decimal length, a newline, that many bytes; repeated."""
    while True:
        master.remaining()
        header = b""
        while True:
            byte = resp.read(1)
            if not byte:
                fail(4, "the stream ended")
            if byte == b"\n":
                break
            if not byte.isdigit() or len(header) > 20:
                fail(4, "bad RecordIO header %r" % (header + byte))
            header += byte
        yield json.loads(read_exactly(resp, int(header)).decode("utf-8"))


def scalar(offer, name):
    return sum(r["scalar"]["value"] for r in offer.get("resources", [])
               if r["name"] == name and r.get("type") == "SCALAR")


def launch(master, offer):
    resources = []
    for name, amount in WANT.items():
        source = next(r for r in offer["resources"] if r["name"] == name and r["scalar"]["value"] >= amount)
        taken = dict(source)  # keeps role, allocation_info, reservations
        taken["scalar"] = {"value": amount}
        resources.append(taken)
    task = {
        "name": "third-party task",
        "task_id": {"value": TASK_ID},
        "agent_id": offer["agent_id"],
        "resources": resources,
        "command": {"value": "echo hello from a third party", "shell": True},
    }
    master.call({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
            "filters": {"refuse_seconds": 5.0},
        },
    })
    log("launched", TASK_ID, "on", offer["agent_id"]["value"])


def main():
    if len(sys.argv) != 2:
        fail(2, "usage: third_party_client.py MASTER_URL")
    master = Master(sys.argv[1], time.monotonic() + TIMEOUT)
    master.version()
    stream = master.subscribe()
    launched = False
    for event in records(stream, master):
        kind = event.get("type")
        if kind == "SUBSCRIBED":
            master.framework_id = event["subscribed"]["framework_id"]["value"]
            log("framework id", master.framework_id)
        elif kind == "HEARTBEAT":
            pass
        elif kind == "ERROR":
            fail(4, "ERROR event: %s" % event["error"]["message"])
        elif master.framework_id is None:
            fail(4, "%s before SUBSCRIBED" % kind)
        elif kind == "OFFERS":
            offers = event["offers"]["offers"]
            usable = [o for o in offers if all(scalar(o, n) >= a for n, a in WANT.items())]
            if not launched and usable:
                launch(master, usable[0])
                launched = True
                offers = [o for o in offers if o is not usable[0]]
            if offers:
                master.call({"type": "DECLINE", "decline": {"offer_ids": [o["id"] for o in offers]}})
        elif kind == "UPDATE":
            status = event["update"]["status"]
            state = status["state"]
            log("update", status["task_id"]["value"], state, "uuid" if "uuid" in status else "no uuid")
            if "uuid" in status:
                uuid = base64.b64decode(status["uuid"], validate=True)
                if len(uuid) != 16:
                    fail(4, "uuid of %d bytes" % len(uuid))
                master.call({
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {
                        "agent_id": status["agent_id"],
                        "task_id": status["task_id"],
                        "uuid": base64.b64encode(uuid).decode("ascii"),
                    },
                })
            if status["task_id"]["value"] == TASK_ID and state in TERMINAL:
                if state != "TASK_FINISHED":
                    fail(3, "the task ended %s: %s" % (state, status.get("message")))
                master.call({"type": "TEARDOWN"})
                print("TASK_FINISHED", TASK_ID)
                return 0
        # RESCIND, FAILURE, MESSAGE, …: nothing to do for this client.


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (TimeoutError, OSError) as error:  # socket.timeout is a TimeoutError
        fail(1, "I/O: %s" % error)
