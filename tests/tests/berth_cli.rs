//! `berth` against berthd: the same scenarios as the docker CLI, plus the
//! commands of the first slice that only berth's own output shows.

use berth_tests::Daemon;

#[test]
fn core_scenarios_with_berth() {
    let d = Daemon::start();
    berth_tests::core_scenarios(&|args, input| d.berth_in(args, input));
    d.finish();
}

#[test]
fn images_tag_rmi_and_errors() {
    let d = Daemon::start();
    let images = d.berth(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.ok(), "busybox:latest\n");
    d.berth(&["tag", "busybox", "example.com/team/bb:v1"]).ok();
    let inspect = d.berth(&["image", "inspect", "-f", "{{json .RepoTags}}", "busybox"]);
    assert!(
        inspect.ok().contains("example.com/team/bb:v1"),
        "{inspect:?}"
    );
    assert_eq!(
        d.berth(&["rmi", "example.com/team/bb:v1"]).ok(),
        "Untagged: example.com/team/bb:v1\n"
    );
    let id = d
        .berth(&["create", "--name", "user", "busybox", "true"])
        .ok()
        .trim()
        .to_string();
    let busy = d.berth(&["rmi", "busybox"]);
    assert_eq!(busy.code, 1, "{busy:?}");
    assert!(
        busy.stderr.contains("container") && busy.stderr.contains(&id[..12]),
        "{busy:?}"
    );
    let bad = d.berth(&["run", "--rm", "-m", "12q", "busybox", "true"]);
    assert_eq!(bad.code, 125, "{bad:?}");
    d.berth(&["rm", "user"]).ok();
    d.berth(&["rmi", "busybox"]).ok();
    assert_eq!(d.berth(&["images", "-q"]).ok(), "");
    d.finish();
}
