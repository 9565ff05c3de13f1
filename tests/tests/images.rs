//! Image commands through the docker CLI against berthd: history, prune,
//! system df, list filters, rmi rules.

use berth_tests::{require, Daemon, DOCKER};

#[test]
fn history_prune_df_and_filters() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let hist = d.docker(&["history", "busybox"]);
    assert!(hist.ok().starts_with("IMAGE"), "{hist:?}");
    assert!(hist.stdout.contains("Imported from -"), "{hist:?}");
    // A second image, imported later; before/since filters order them.
    let tar = berth_tests::busybox_tar().to_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    d.docker(&["import", "-c", "LABEL stage=second", &tar, "second:v1"])
        .ok();
    let names = |args: &[&str]| {
        let mut a = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        a.extend_from_slice(args);
        d.docker(&a).ok().trim().to_string()
    };
    assert_eq!(names(&["--filter", "before=second:v1"]), "busybox:latest");
    assert_eq!(names(&["--filter", "since=busybox"]), "second:v1");
    assert_eq!(names(&["--filter", "label=stage=second"]), "second:v1");
    assert_eq!(names(&["--filter", "reference=busy*"]), "busybox:latest");
    // The same layer content is stored once.
    let layers = std::fs::read_dir(d.dir.join("data/snapshots/layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 1);
    // rmi refuses an image a container uses; prune keeps it too.
    d.docker(&["create", "--name", "keep", "second:v1", "true"])
        .ok();
    let refused = d.docker(&["rmi", "second:v1"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("must force") || refused.stderr.contains("is using"),
        "{refused:?}"
    );
    let df = d.docker(&["system", "df"]);
    assert!(df.ok().contains("Images          2"), "{df:?}");
    d.docker(&["rm", "keep"]).ok();
    // Untag second:v1 by deleting its only tag through its id would delete it; instead make it dangling.
    let id = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "second:v1"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["tag", "second:v1", "other:v1"]).ok();
    assert!(d
        .docker(&["rmi", "second:v1"])
        .ok()
        .contains("Untagged: second:v1"));
    d.docker(&["rmi", "other:v1"]).ok();
    assert_eq!(d.docker(&["image", "inspect", &id]).code, 1);
    let pruned = d.docker(&["image", "prune", "-a", "-f"]);
    assert!(pruned.ok().contains("Total reclaimed space"), "{pruned:?}");
    assert_eq!(d.docker(&["images", "-q"]).ok(), "");
    d.finish();
}

/// rmi -f as dockerd: an image a stopped container uses is deleted (its
/// layers stay until that container goes), a running container's is not
/// (removal by id is refused, by name it only untags).
#[test]
fn forced_rmi_of_an_image_containers_use() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let layers = || {
        std::fs::read_dir(d.dir.join("data/snapshots/layers"))
            .unwrap()
            .count()
    };
    d.docker(&["run", "--name", "mk", "busybox", "sh", "-c", "echo x > /x"])
        .ok();
    d.docker(&["commit", "mk", "own:1"]).ok();
    d.docker(&["rm", "mk"]).ok();
    assert_eq!(layers(), 2);
    let id = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "own:1"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["create", "--name", "user", "own:1", "cat", "/x"])
        .ok();
    d.docker(&["run", "-d", "--name", "live", "own:1", "sleep", "60"])
        .ok();
    let refused = d.docker(&["rmi", "-f", &id]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("(cannot be forced) - image is being used by running container"),
        "{refused:?}"
    );
    let untagged = d.docker(&["rmi", "-f", "own:1"]);
    assert_eq!(untagged.ok().trim(), "Untagged: own:1");
    d.docker(&["image", "inspect", &id]).ok();
    d.docker(&["rm", "-f", "live"]).ok();
    let refused = d.docker(&["rmi", &id]);
    assert!(
        refused
            .stderr
            .contains("(must be forced) - image is being used by stopped container"),
        "{refused:?}"
    );
    let deleted = d.docker(&["rmi", "-f", &id]);
    assert!(
        deleted.ok().contains(&format!("Deleted: {id}")),
        "{deleted:?}"
    );
    assert_eq!(d.docker(&["image", "inspect", &id]).code, 1);
    // The container still runs on the deleted image's layer ...
    assert_eq!(layers(), 2);
    assert_eq!(d.docker(&["start", "-a", "user"]).ok(), "x\n");
    let shown = d.docker(&["ps", "-a", "--format", "{{.Image}} {{.Names}}"]);
    assert_eq!(shown.ok().trim(), format!("{} user", &id[7..19]));
    // ... which goes with the last container built on it.
    d.docker(&["rm", "user"]).ok();
    let mut left = layers();
    for _ in 0..100 {
        if left == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        left = layers();
    }
    assert_eq!(left, 1, "the deleted image's layer is released");
    d.docker(&["run", "--rm", "busybox", "true"]).ok();
    d.finish();
}
