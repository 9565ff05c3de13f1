"""docker-py's images.build() against berthd (the legacy /build stream):
it parses the aux ID / 'Successfully built' itself, so a build that works
for the docker CLI must also give docker-py an Image."""
import os
import sys
import tempfile

import docker

sock = sys.argv[1]
client = docker.DockerClient(base_url="unix://" + sock)
with tempfile.TemporaryDirectory() as ctx:
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nARG WHO=nobody\nCOPY msg /msg\nRUN echo \"$WHO\" >> /msg\nCMD [\"cat\", \"/msg\"]\n")
    with open(os.path.join(ctx, "msg"), "w") as f:
        f.write("from docker-py\n")
    image, logs = client.images.build(path=ctx, tag="pybuilt:1", buildargs={"WHO": "py"}, rm=True)
    lines = [l.get("stream", "") for l in logs]
    assert any("Step 3/5 : COPY msg /msg" in l for l in lines), lines
    assert "pybuilt:1" in image.tags, image.tags
    out = client.containers.run("pybuilt:1", remove=True)
    assert out == b"from docker-py\npy\n", out
    # A failing build raises BuildError with Docker's message.
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nRUN exit 7\n")
    try:
        client.images.build(path=ctx, rm=True, forcerm=True)
        raise SystemExit("a failing RUN built")
    except docker.errors.BuildError as e:
        assert "returned a non-zero code: 7" in str(e), str(e)
    assert client.containers.list(all=True) == [], client.containers.list(all=True)
    # A step's stderr comes in red, as dockerd's builder sends it.
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nRUN echo to-stderr >&2\n")
    _, logs = client.images.build(path=ctx, rm=True, nocache=True)
    lines = [l.get("stream") for l in logs]
    assert "\x1b[91mto-stderr\n\x1b[0m" in lines, lines

# A Dockerfile outside the context: docker-py sends it in the tar under a
# random name, with a .dockerignore naming it, and passes `dockerfile`
# twice (name, then content): dockerd reads the first, and drops both
# files from the context once read.
with tempfile.TemporaryDirectory() as ctx, tempfile.TemporaryDirectory() as dfdir:
    with open(os.path.join(ctx, "file.txt"), "w") as f:
        f.write("hello")
    with open(os.path.join(ctx, ".dockerignore"), "w") as f:
        f.write(".dockerignore\n")
    df = os.path.join(dfdir, "Dockerfile")
    with open(df, "w") as f:
        f.write("FROM busybox\nCOPY . /src\nWORKDIR /src\n")
    image, _ = client.images.build(path=ctx, dockerfile=df, tag="pyoutside:1", rm=True)
    out = client.containers.run("pyoutside:1", "ls -a", remove=True)
    assert sorted(out.split()) == [b".", b"..", b"file.txt"], out
print("docker-py build: ok")
