#!/usr/bin/env python3
"""Writes crates/engine/src/containers/spec_fields.rs: the field names of the
create, endpoint, exec and update bodies in the Engine API spec, which the decision
table of crates/engine/src/containers/options.rs is tested against.
Usage: scripts/spec-fields.py [SPEC]  (default ../shared/specs/docker-engine-api-v1.50.yaml)"""
import os
import sys

import yaml

here = os.path.dirname(os.path.abspath(__file__))
spec_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "shared", "specs", "docker-engine-api-v1.50.yaml")
d = yaml.safe_load(open(spec_path))
defs = d["definitions"]


def props(name):
    dd = defs[name]
    out = []
    for part in dd.get("allOf", [dd]):
        if "$ref" in part:
            out += props(part["$ref"].split("/")[-1])
        else:
            out += list(part.get("properties", {}).keys())
    return out


def body(path, method):
    for p in d["paths"][path][method]["parameters"]:
        if p.get("in") == "body":
            s = p["schema"]
            out = []
            for part in s.get("allOf", [s]):
                if "$ref" in part:
                    out += props(part["$ref"].split("/")[-1])
                else:
                    out += list(part.get("properties", {}).keys())
            return out
    return []


lists = [
    ("CONTAINER_CONFIG", props("ContainerConfig")),
    ("HOST_CONFIG", props("HostConfig")),
    ("ENDPOINT_SETTINGS", props("EndpointSettings")),
    ("EXEC_CREATE", body("/containers/{id}/exec", "post")),
    ("EXEC_START", body("/exec/{id}/start", "post")),
    ("UPDATE", body("/containers/{id}/update", "post")),
]
out = ["//! Field names of the Engine API v1.50 spec's create, endpoint, exec and",
       "//! update bodies (docker-engine-api-v1.50.yaml), written by scripts/spec-fields.py.",
       "//! The decision table in options.rs is tested against them.", ""]
for name, fields in lists:
    out.append(f"pub const {name}: &[&str] = &[")
    out += [f'    "{f}",' for f in fields]
    out.append("];")
    out.append("")
dst = os.path.join(here, "..", "crates", "engine", "src", "containers", "spec_fields.rs")
open(dst, "w").write("\n".join(out))
print(f"wrote {dst}")
