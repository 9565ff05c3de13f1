//! oras (the PyPI SDK) pushes an artifact, then a second one whose
//! `subject` is the first; the referrers API lists it (with the
//! `artifactType` filter), and oras pulls both back.
//!
//! Skips when python3's `oras` module is missing, except under `CI=true`.

mod registry_support;

use registry_support::*;
use std::process::Command;
use std::time::Duration;

const SCRIPT: &str = r#"
import json, os, sys, hashlib
import oras.client, oras.oci, requests
addr, work = sys.argv[1], sys.argv[2]
os.chdir(work)
c = oras.client.OrasClient(hostname=addr, insecure=True)
open("artifact.txt", "w").write("the artifact\n")
c.push(files=["artifact.txt"], target=f"{addr}/oras/art:v1", quiet=True)
raw = requests.get(f"http://{addr}/v2/oras/art/manifests/v1",
                   headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
digest = "sha256:" + hashlib.sha256(raw.content).hexdigest()
subject = oras.oci.Subject(mediaType=raw.headers["Content-Type"], digest=digest, size=len(raw.content))
open("signature.json", "w").write('{"signed": true}\n')
open("sig-config.json", "w").write("{}")
resp = c.push(files=["signature.json"], target=f"{addr}/oras/art:sig", subject=subject,
              manifest_config="sig-config.json:application/vnd.example.signature.v1+json",
              manifest_annotations={"org.example.note": "signed"}, quiet=True)
pulled = c.pull(target=f"{addr}/oras/art:v1", outdir=os.path.join(work, "out1"))
pulled_sig = c.pull(target=f"{addr}/oras/art:sig", outdir=os.path.join(work, "out2"))
print(json.dumps({
    "subject": digest,
    "oci_subject": resp.headers.get("OCI-Subject"),
    "pulled": open(pulled[0]).read(),
    "pulled_sig": open(pulled_sig[0]).read(),
}))
"#;

fn have_oras() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import oras.client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !berth_tests::ci(),
            "python3 module oras is required under CI"
        );
        eprintln!("SKIP: python3 module oras is not installed (python3 -m pip install oras)");
    }
    ok
}

#[test]
fn oras_artifact_with_subject_and_referrers() {
    if !berth_tests::require("python3") || !have_oras() {
        return;
    }
    let reg = Reg::start();
    let work = tempdir();
    let (code, out, err) = run(
        Command::new("python3")
            .args(["-c", SCRIPT, &reg.addr])
            .arg(work.path()),
        Duration::from_secs(120),
    );
    assert_eq!(
        code,
        0,
        "oras script failed:\n{err}\nregistry log:\n{}",
        reg.log()
    );
    let res: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("")).unwrap();
    let subject = res["subject"].as_str().unwrap();
    assert_eq!(res["oci_subject"], subject, "OCI-Subject header");
    assert_eq!(res["pulled"], "the artifact\n");
    assert_eq!(res["pulled_sig"], "{\"signed\": true}\n");

    let sig = reg.req("HEAD", "/v2/oras/art/manifests/sig", &[], b"");
    let sig_digest = sig.header("docker-content-digest").unwrap().to_string();
    let r = reg.req(
        "GET",
        &format!("/v2/oras/art/referrers/{subject}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let idx = r.json();
    assert_eq!(idx["schemaVersion"], 2);
    let list = idx["manifests"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{idx}");
    assert_eq!(list[0]["digest"], sig_digest.as_str());
    assert_eq!(list[0]["mediaType"], OCI_MANIFEST);
    assert_eq!(
        list[0]["artifactType"],
        "application/vnd.example.signature.v1+json"
    );
    assert_eq!(list[0]["annotations"]["org.example.note"], "signed");
    assert_eq!(
        list[0]["size"].as_u64(),
        sig.header("content-length").and_then(|l| l.parse().ok())
    );
    // The artifactType filter.
    let f = reg.req(
        "GET",
        &format!("/v2/oras/art/referrers/{subject}?artifactType=application/vnd.example.signature.v1%2Bjson"),
        &[],
        b"",
    );
    assert_eq!(f.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(f.json()["manifests"].as_array().unwrap().len(), 1);
    let none = reg.req(
        "GET",
        &format!("/v2/oras/art/referrers/{subject}?artifactType=application/other"),
        &[],
        b"",
    );
    assert_eq!(none.json()["manifests"], serde_json::json!([]));
    // Unknown subjects give an empty list, bad digests 400.
    let empty = reg.req(
        "GET",
        &format!("/v2/oras/art/referrers/{}", sha256(b"x")),
        &[],
        b"",
    );
    assert_eq!(
        (empty.status, empty.json()["manifests"].clone()),
        (200, serde_json::json!([]))
    );
    let bad = reg.req("GET", "/v2/oras/art/referrers/sha256:nothex", &[], b"");
    assert_eq!(bad.status, 400);
}
