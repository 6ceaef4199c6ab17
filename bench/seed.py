"""Seeds a Latchkey server for bench/token.sh through its management API.

Usage: seed.py PORT BOOTSTRAP_TOKEN CLIENTS LOAD_CLIENTS BASIC_FILE KIND

Creates one tenant and CLIENTS client-credentials clients, with THREADS (16)
parallel keep-alive connections. Writes the Basic credentials of LOAD_CLIENTS
of them, evenly spread over the seeded ones (the first always), to BASIC_FILE,
one a line. KIND=supplied gives the first
client a supplied (Argon2id-hashed) secret and uses that one. Prints
"TENANT_ID BASIC_OF_THE_FIRST_CLIENT SECONDS_SPENT" on stdout.
"""

import base64
import http.client
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

port, boot, n, k, basic_file, kind = (
    int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
threads = int(os.environ.get("THREADS", "16"))
local = threading.local()


def post(path, body):
    """POST JSON on this thread's keep-alive connection; retries once on a dropped one."""
    data = json.dumps(body).encode()
    headers = {"Authorization": "Bearer " + boot, "Content-Type": "application/json"}
    for attempt in range(3):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/api/v1" + path, data, headers)
            r = conn.getresponse()
            text = r.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            local.conn = None
            if attempt == 2:
                raise
            continue
        if r.status == 429 or r.status == 503:
            time.sleep(0.05 * (attempt + 1))
            continue
        if r.status >= 300:
            raise SystemExit(f"POST {path}: HTTP {r.status}: {text[:300]!r}")
        return json.loads(text)
    raise SystemExit(f"POST {path}: gave up")


def ci(obj, key):
    return next((v for kk, v in (obj or {}).items() if kk.lower() == key.lower()), None)


def client_id(made):
    return ci(ci(made, "Client"), "Id") or ci(made, "ClientId")


def basic(cid, secret):
    q = urllib.parse.quote
    return base64.b64encode(f"{q(cid, safe='')}:{q(secret, safe='')}".encode()).decode()


started = time.monotonic()
tid = ci(post("/Tenants", {"Name": "bench"}), "Id")
path = f"/Tenants/{tid}/ClientCredentialClients"
first = post(path, {"Name": "bench-0", "RoleIds": ["tenant-member"]})
cid, secret = client_id(first), ci(first, "Secret")
if kind == "supplied":
    secret = "bench-supplied-" + secrets.token_urlsafe(30)
    post(f"{path}/{urllib.parse.quote(cid, safe='')}/Secrets",
         {"Description": "supplied", "Value": secret})
with ThreadPoolExecutor(threads) as ex:
    made = list(ex.map(lambda i: post(path, {"Name": f"bench-{i}"}), range(1, n), chunksize=64))
with open(basic_file, "w") as f:
    f.write(basic(cid, secret) + "\n")
    step = max(len(made) // max(k - 1, 1), 1)
    for r in made[step - 1::step][:max(k - 1, 0)]:
        f.write(basic(client_id(r), ci(r, "Secret")) + "\n")
print(tid, basic(cid, secret), f"{time.monotonic() - started:.1f}")
