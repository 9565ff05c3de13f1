"""docker-py (the `docker` PyPI package) against a daemon: volumes.
Create with labels, list by label, inspect (Mountpoint under the daemon's
data root), data written by one container through
volumes={name: {"bind": ..., "mode": "rw"}} and read by another with mode
"ro", removal refused (409) while a container uses the volume, removal
after, and prune's answer ({"VolumesDeleted": [...], "SpaceReclaimed": N}).
Usage: docker_py_volumes.py UNIX_SOCKET DATA_ROOT NAME_PREFIX. Exits 0 when
every check passed; an assertion names the first that did not. Removes what
it made, also on failure."""
import os
import sys

import docker

c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto", timeout=60)
data_root = sys.argv[2]
prefix = sys.argv[3]
made_containers = []
made_volumes = []


def expect_api_error(status, fn, *args, **kwargs):
    """Calls fn, which must raise docker.errors.APIError with `status`."""
    try:
        fn(*args, **kwargs)
    except docker.errors.APIError as e:
        assert e.status_code == status, (status, e.status_code, str(e))
        return e
    raise AssertionError(f"{fn.__name__}{args} succeeded, expected HTTP {status}")


def main():
    name = prefix + "vol"
    label_key = prefix + "made-by"
    labels = {label_key: "docker-py", "purpose": "test"}

    # Create with labels; the answer is the volume's inspect.
    vol = c.volumes.create(name=name, driver="local", labels=labels)
    made_volumes.append(vol)
    assert vol.name == name and vol.id == name, vol.attrs
    assert vol.attrs["Name"] == name, vol.attrs
    assert vol.attrs["Driver"] == "local", vol.attrs
    assert vol.attrs["Labels"] == labels, vol.attrs
    assert vol.attrs["Scope"] == "local", vol.attrs
    assert vol.attrs.get("CreatedAt"), vol.attrs
    # The local driver keeps the data under <data-root>/volumes/<name>/_data.
    mountpoint = vol.attrs["Mountpoint"]
    assert mountpoint == os.path.join(data_root, "volumes", name, "_data"), vol.attrs
    assert os.path.isdir(mountpoint), mountpoint

    # Listed by label (key=value and key alone), not by another label.
    listed = c.volumes.list(filters={"label": f"{label_key}=docker-py"})
    assert [v.name for v in listed] == [name], [v.attrs for v in listed]
    assert listed[0].attrs["Labels"] == labels, listed[0].attrs
    listed = c.volumes.list(filters={"label": label_key})
    assert [v.name for v in listed] == [name], [v.attrs for v in listed]
    assert c.volumes.list(filters={"label": f"{label_key}=other"}) == []
    assert name in [v.name for v in c.volumes.list()]

    # A container writes through a rw mount; the file is in the volume on the host.
    out = c.containers.run("busybox", ["sh", "-c", "echo hello-docker-py > /data/f && echo wrote"],
                           volumes={name: {"bind": "/data", "mode": "rw"}}, remove=True)
    assert out == b"wrote\n", out
    with open(os.path.join(mountpoint, "f")) as f:
        assert f.read() == "hello-docker-py\n"

    # Another container reads it through a ro mount, and cannot write.
    reader = c.containers.run(
        "busybox",
        ["sh", "-c", "cat /data/f; if touch /data/g 2>/dev/null; then echo WRITABLE; else echo READONLY; fi"],
        volumes={name: {"bind": "/data", "mode": "ro"}}, detach=True)
    made_containers.append(reader)
    res = reader.wait(timeout=30)
    assert res["StatusCode"] == 0, res
    logs = reader.logs()
    assert logs == b"hello-docker-py\nREADONLY\n", logs
    assert not os.path.exists(os.path.join(mountpoint, "g"))
    reader.reload()
    mounts = reader.attrs["Mounts"]
    assert len(mounts) == 1, mounts
    m = mounts[0]
    assert (m["Type"], m["Name"], m["Destination"], m["RW"]) == ("volume", name, "/data", False), m
    assert m["Source"] == mountpoint and m["Driver"] == "local", m
    assert reader.attrs["HostConfig"]["Binds"] == [f"{name}:/data:ro"], reader.attrs["HostConfig"]

    # get by name.
    got = c.volumes.get(name)
    assert got.id == name and got.attrs["Mountpoint"] == mountpoint, got.attrs
    assert got.attrs["Labels"] == labels, got.attrs

    # In use by a stopped container: refused with 409, as by dockerd.
    e = expect_api_error(409, got.remove)
    assert "volume is in use" in str(e), str(e)
    reader.remove()
    made_containers.remove(reader)
    # In use by a running container: refused as well, also with force.
    runner = c.containers.run("busybox", ["sleep", "300"],
                              volumes={name: {"bind": "/data", "mode": "rw"}}, detach=True)
    made_containers.append(runner)
    e = expect_api_error(409, got.remove)
    assert "volume is in use" in str(e), str(e)
    e = expect_api_error(409, got.remove, force=True)
    assert "volume is in use" in str(e), str(e)
    assert c.volumes.get(name).name == name
    runner.remove(force=True)
    made_containers.remove(runner)

    # Free now: removed, then gone.
    got.remove()
    made_volumes.remove(vol)
    try:
        c.volumes.get(name)
        raise AssertionError("volume still there after remove")
    except docker.errors.NotFound:
        pass
    assert c.volumes.list(filters={"label": label_key}) == []
    assert not os.path.exists(os.path.join(data_root, "volumes", name))

    # prune: (API >= 1.42) anonymous volumes only unless all=true. A volume
    # created without a name is anonymous. Both carry our label, so the
    # prunes touch nothing else.
    prune_label = f"{label_key}=prune"
    anon = c.volumes.create(labels={label_key: "prune"})
    made_volumes.append(anon)
    named = c.volumes.create(name=prefix + "keep", labels={label_key: "prune"})
    made_volumes.append(named)
    assert len(anon.name) == 64, anon.attrs
    api = tuple(int(x) for x in c.api.api_version.split("."))
    if api >= (1, 42):
        # dockerd 23+ marks a volume created without a name as anonymous.
        assert anon.attrs["Labels"] == {label_key: "prune", "com.docker.volume.anonymous": ""}, anon.attrs
    c.containers.run("busybox", ["sh", "-c", "head -c 8192 /dev/zero > /data/z"],
                     volumes={anon.name: {"bind": "/data", "mode": "rw"}}, remove=True)
    pruned = c.volumes.prune(filters={"label": prune_label})
    assert set(pruned) == {"VolumesDeleted", "SpaceReclaimed"}, pruned
    assert isinstance(pruned["SpaceReclaimed"], int), pruned
    assert pruned["SpaceReclaimed"] >= 8192, pruned
    if api >= (1, 42):
        assert pruned["VolumesDeleted"] == [anon.name], pruned
        made_volumes.remove(anon)
        assert [v.name for v in c.volumes.list(filters={"label": prune_label})] == [named.name]
        # all=true takes the named one too.
        pruned = c.volumes.prune(filters={"label": prune_label, "all": "true"})
        assert pruned["VolumesDeleted"] == [named.name], pruned
        assert pruned["SpaceReclaimed"] == 0, pruned
    else:
        # Before 1.42 (dockerd 20.10, say) prune takes named volumes as well.
        assert sorted(pruned["VolumesDeleted"]) == sorted([anon.name, named.name]), pruned
        made_volumes.remove(anon)
    made_volumes.remove(named)
    assert c.volumes.list(filters={"label": prune_label}) == []
    # Nothing left to prune: an empty list, not null (as dockerd answers).
    pruned = c.volumes.prune(filters={"label": prune_label})
    assert pruned == {"VolumesDeleted": [], "SpaceReclaimed": 0}, pruned
    print("docker-py volumes: ok")


try:
    main()
finally:
    for x in made_containers:
        try:
            x.remove(force=True)
        except docker.errors.APIError:
            pass
    for v in made_volumes:
        try:
            v.remove(force=True)
        except docker.errors.APIError:
            pass
