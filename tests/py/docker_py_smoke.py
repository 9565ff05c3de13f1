"""docker-py (the `docker` PyPI package) against a daemon: the common calls
of its high-level API. Usage: docker_py_smoke.py UNIX_SOCKET. Exits 0 when
every check passed; an assertion names the first that did not."""
import io
import sys
import tarfile
import time

import docker

c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto", timeout=60)
t0 = int(time.time()) - 1
assert c.ping()
assert c.version()["ApiVersion"]
assert c.info()["Containers"] >= 0
assert any("busybox:latest" in t for i in c.images.list() for t in i.tags)

# run, attached and detached
assert c.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"
ct = c.containers.run("busybox", ["sleep", "300"], detach=True, name="pyc", labels={"k": "v"})
ct.reload()
assert ct.status == "running", ct.status
assert [x.name for x in c.containers.list(filters={"label": "k=v"})] == ["pyc"]
code, out = ct.exec_run(["echo", "in"])
assert (code, out) == (0, b"in\n"), (code, out)
assert any("sleep" in " ".join(p) for p in ct.top()["Processes"])
stats = ct.stats(stream=False)
assert stats["memory_stats"]["usage"] > 0, stats["memory_stats"]
ct.pause()
ct.reload()
assert ct.status == "paused", ct.status
ct.unpause()
ct.exec_run(["sh", "-c", ": > /made"])
assert {"Path": "/made", "Kind": 1} in ct.diff(), ct.diff()
bits, stat = ct.get_archive("/etc/passwd")
assert stat["name"] == "passwd", stat
tar = tarfile.open(fileobj=io.BytesIO(b"".join(bits)))
assert b"root" in tar.extractfile("passwd").read()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"from docker-py\n"
    info = tarfile.TarInfo("put.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
assert ct.put_archive("/tmp", buf.getvalue())
assert ct.exec_run(["cat", "/tmp/put.txt"])[1] == b"from docker-py\n"
ct.stop(timeout=1)
ct.reload()
assert ct.status == "exited", ct.status
assert ct.wait()["StatusCode"] in (137, 143)
ct.remove()

# logs of a finished container
ct2 = c.containers.run("busybox", ["sh", "-c", "echo a; echo b >&2"], detach=True)
assert ct2.wait()["StatusCode"] == 0
# stdout and stderr are separate pipes: their relative order is not kept.
assert sorted(ct2.logs().splitlines()) == [b"a", b"b"], ct2.logs()
assert ct2.logs(stderr=False) == b"a\n"

# images
img = c.images.get("busybox")
assert img.tag("pytag", "v1")
assert "pytag:v1" in c.images.get("pytag:v1").tags
c.images.remove("pytag:v1")

# events and prune
until = int(time.time()) + 1
actions = [(e["Type"], e["Action"]) for e in c.events(since=t0, until=until, decode=True)]
for want in [("container", "create"), ("container", "start"), ("container", "pause"),
             ("container", "die"), ("container", "destroy"), ("image", "tag")]:
    assert want in actions, (want, actions)
pruned = c.containers.prune()
assert ct2.id in (pruned["ContainersDeleted"] or []), pruned
print("docker-py: ok")
