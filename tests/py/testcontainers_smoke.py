"""testcontainers-python (the `testcontainers` PyPI package) against a
daemon: a busybox httpd with an exposed port, reached from the host at
get_container_host_ip():get_exposed_port(80). Usage:
testcontainers_smoke.py BRIDGE_GATEWAY, with DOCKER_HOST set to the daemon,
TESTCONTAINERS_RYUK_DISABLED=true (no reaper image to pull) and
TESTCONTAINERS_CONNECTION_MODE=docker_host (see testcontainers.rs). Exits 0
when every check passed; an assertion names the first that did not."""
import http.client
import os
import socket
import sys
import time

import docker
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

gateway = sys.argv[1]
assert os.environ.get("DOCKER_HOST", "").startswith("unix://"), os.environ.get("DOCKER_HOST")
assert testcontainers_config.ryuk_disabled, "the Ryuk reaper must be disabled"

api = docker.from_env(version="auto", timeout=60)
t0 = int(time.time()) - 1
images_before = sorted(t for i in api.images.list() for t in i.tags)


def get(host, port, path, deadline_s=10):
    """GET path from host:port over IPv4 loopback, retrying until it answers."""
    addr = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    assert addr.startswith("127."), (host, addr)
    deadline = time.time() + deadline_s
    while True:
        conn = http.client.HTTPConnection(addr, port, timeout=5)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        except OSError as e:
            if time.time() > deadline:
                raise AssertionError(f"GET http://{host}:{port}{path}: {e}")
            time.sleep(0.2)
        finally:
            conn.close()


ct = DockerContainer("busybox").with_command("httpd -f -p 80 -h /etc").with_exposed_ports(80)
ct.start()
try:
    cid = ct.get_container_id()
    port = ct.get_exposed_port(80)
    host = ct.get_container_host_ip()
    assert host in ("localhost", "127.0.0.1"), host
    assert isinstance(port, int) and port > 0, port
    status, body = get(host, port, "/hostname")
    assert status == 200, (status, body)
    wrapped = ct.get_wrapped_container()
    wrapped.reload()
    assert wrapped.status == "running", wrapped.status
    assert body.strip() == wrapped.attrs["Config"]["Hostname"].encode(), (body, wrapped.attrs["Config"])
    assert body.strip() == cid[:12].encode(), (body, cid)
    assert wrapped.labels.get("org.testcontainers") == "true", wrapped.labels
    # What the other connection modes would use: the container's network
    # (bridge) and its gateway, the daemon's bridge address (not contacted).
    tc = ct.get_docker_client()
    assert tc.network_name(cid) == "bridge", tc.get_container(cid)["HostConfig"]
    assert tc.gateway_ip(cid) == gateway, tc.get_container(cid)["NetworkSettings"]
    assert tc.bridge_ip(cid).startswith(gateway.rsplit(".", 1)[0] + "."), tc.get_container(cid)["NetworkSettings"]
    # exec through the wrapper
    code, out = ct.exec(["cat", "/etc/hostname"])
    assert (code, out.strip()) == (0, cid[:12].encode()), (code, out)
finally:
    ct.stop()

try:
    api.containers.get(cid)
    raise AssertionError("container still there after stop()")
except docker.errors.NotFound:
    pass

# No reaper, no pull: the daemon holds the same images and saw no pull.
assert sorted(t for i in api.images.list() for t in i.tags) == images_before
until = int(time.time()) + 1
events = list(api.events(since=t0, until=until, decode=True))
pulls = [e for e in events if e.get("Type") == "image" and e.get("Action") == "pull"]
assert not pulls, pulls
assert not [e for e in events if "ryuk" in str(e.get("Actor", {}))], events
assert ("container", "destroy") in [(e["Type"], e["Action"]) for e in events], events
print("testcontainers: ok")
