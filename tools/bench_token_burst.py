#!/usr/bin/env python3
"""A burst of wrong secrets for a real account id (public by design) against a gateway
binary, with honest intake going on: what the burst costs the gateway (its resident
memory's peak) and honest callers (intake p99 during against before). Loopback only
(ports 17600/17601), a fresh database in a temporary folder; stops by itself.

  tools/bench_token_burst.py target/release/yiping-gateway
  tools/bench_token_burst.py target/release/yiping gateway
"""
import http.client, json, os, subprocess, sys, threading, time, re, secrets, tempfile, statistics
exe = os.path.abspath(sys.argv[1]); sub = sys.argv[2:]  # e.g. ["gateway"] for the yiping binary
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
d = tempfile.mkdtemp()
db = os.path.join(d, "g.sqlite")
acct = subprocess.run([exe, "account", "--database", db, "add", "--name", "b", "--role", "operator"], capture_output=True, text=True, cwd=root)
tok = acct.stdout.strip().splitlines()[-1].strip()
ident = tok.split(".")[1]
cfg = os.path.join(d, "g.toml")
base = open(os.path.join(root, "config/gateway.toml")).read()
base = re.sub(r'^listen = .*$', 'listen = "127.0.0.1:17600"', base, flags=re.M)
base = re.sub(r'^http_listen = .*$', 'http_listen = "127.0.0.1:17601"', base, flags=re.M)
base = re.sub(r'^database = .*$', 'database = "%s"' % db, base, flags=re.M)
# Relative paths are read from the config file's folder: name the demo grids whole.
base = re.sub(r'^grids = .*$', 'grids = "%s"' % os.path.join(root, "assets/city/grids.geojson"), base, flags=re.M)
open(cfg, "w").write(base)
g = subprocess.Popen([exe] + sub + ["--config", cfg], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", 17601, timeout=2); c.request("GET", "/healthz"); c.getresponse().read(); break
    except Exception: time.sleep(0.2)
ticket = {"channel": "grid_app", "category": "safety_hazard", "subtype": "x", "priority": "urgent", "lon": 119.43, "lat": 32.19, "grid": "321102-01-003-005", "title": "burst test", "reporter": "t"}
def post(token, body, out):
    t0 = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", 17601, timeout=60)
        c.request("POST", "/api/tickets", body=json.dumps(body), headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse(); r.read(); out.append((r.status, time.time() - t0))
    except Exception as e:
        out.append((0, time.time() - t0))
def rss():
    s = open("/proc/%d/status" % g.pid).read()
    return int(re.search(r"VmRSS:\s+(\d+)", s).group(1)) // 1024
def honest(n, out):
    for _ in range(n):
        post("demo-operator-token", ticket, out); time.sleep(0.02)
def p99(xs): xs = sorted(xs); return xs[int(len(xs) * 0.99) - 1] * 1000 if xs else float('nan')
base_out = []; honest(100, base_out)
rss0 = rss(); peak = [rss0]; stop = [False]
def sampler():
    while not stop[0]:
        try: peak[0] = max(peak[0], rss())
        except Exception: pass
        time.sleep(0.02)
st = threading.Thread(target=sampler); st.start()
bad = []; during = []
ht = threading.Thread(target=honest, args=(100, during)); ht.start()
ths = [threading.Thread(target=post, args=("yp1.%s.%s" % (ident, secrets.token_hex(16)), ticket, bad)) for _ in range(200)]
t0 = time.time()
for t in ths: t.start()
for t in ths: t.join()
burst_s = time.time() - t0
ht.join(); stop[0] = True; st.join()
codes = {}
for s_, _ in bad: codes[s_] = codes.get(s_, 0) + 1
lat = sorted(x for _, x in bad)
print("%s: 200 wrong secrets at once: statuses %s, 401 after p50 %.2f s / max %.2f s (burst %.1f s); RSS %d -> peak %d MB (+%d); honest intake p99 %.1f ms before, %.1f ms during (%.1fx)" % (
    " ".join([os.path.basename(exe)] + sub), codes, statistics.median(lat), lat[-1], burst_s, rss0, peak[0], peak[0] - rss0, p99([x for _, x in base_out]), p99([x for _, x in during]), p99([x for _, x in during]) / p99([x for _, x in base_out])))
g.terminate(); g.wait()
