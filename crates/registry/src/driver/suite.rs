//! The shared driver test suite: every driver's test is one call to [`run`].

use super::{DriverError, StorageDriver};
use bytes::Bytes;
use futures_util::StreamExt;

async fn read_all(d: &dyn StorageDriver, path: &str, offset: u64, len: Option<u64>) -> Vec<u8> {
    let mut s = d.read(path, offset, len).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

fn not_found<T>(r: Result<T, DriverError>) -> bool {
    matches!(r, Err(DriverError::NotFound(_)))
}

/// Runs every check against `d`, which must be empty.
pub async fn run(d: &dyn StorageDriver) {
    content(d).await;
    listing(d).await;
    writers(d).await;
    streaming(d).await;
    rename_and_delete(d).await;
    invalid_paths(d).await;
}

async fn content(d: &dyn StorageDriver) {
    assert!(not_found(d.get_content("a/missing").await));
    assert!(not_found(d.stat("a/missing").await));
    d.put_content("a/b/c", Bytes::from_static(b"one"))
        .await
        .unwrap();
    assert_eq!(d.get_content("a/b/c").await.unwrap(), &b"one"[..]);
    d.put_content("a/b/c", Bytes::from_static(b"two!"))
        .await
        .unwrap();
    assert_eq!(d.get_content("a/b/c").await.unwrap(), &b"two!"[..]);
    let st = d.stat("a/b/c").await.unwrap();
    assert_eq!((st.size, st.is_dir), (4, false));
    assert!(d.stat("a/b").await.unwrap().is_dir);
    d.put_content("a/empty", Bytes::new()).await.unwrap();
    assert_eq!(d.get_content("a/empty").await.unwrap().len(), 0);
    d.delete("a").await.unwrap();
}

async fn listing(d: &dyn StorageDriver) {
    for p in ["l/z", "l/a/x", "l/a/y", "l/m/n/o"] {
        d.put_content(p, Bytes::from_static(b"x")).await.unwrap();
    }
    assert_eq!(d.list("l").await.unwrap(), ["a", "m", "z"]);
    assert_eq!(d.list("l/a").await.unwrap(), ["x", "y"]);
    assert!(not_found(d.list("nope").await));
    d.delete("l").await.unwrap();
    assert!(not_found(d.list("l").await));
}

async fn writers(d: &dyn StorageDriver) {
    let mut w = d.writer("w/up/data").await.unwrap();
    assert_eq!(w.size(), 0);
    w.write(Bytes::from_static(b"hello ")).await.unwrap();
    w.write(Bytes::from(vec![b'x'; 3 << 20])).await.unwrap();
    w.write(Bytes::from_static(b" world")).await.unwrap();
    assert_eq!(w.size(), 6 + (3 << 20) + 6);
    w.flush().await.unwrap();
    assert_eq!(d.stat("w/up/data").await.unwrap().size, w.size());
    w.commit().await.unwrap();
    drop(w);
    // Reopening appends after what is there.
    let mut w = d.writer("w/up/data").await.unwrap();
    assert_eq!(w.size(), 6 + (3 << 20) + 6);
    w.write(Bytes::from_static(b"!")).await.unwrap();
    w.commit().await.unwrap();
    let all = read_all(d, "w/up/data", 0, None).await;
    assert_eq!(all.len(), 6 + (3 << 20) + 7);
    assert!(all.starts_with(b"hello xxx"));
    assert!(all.ends_with(b"xx world!"));
    d.delete("w").await.unwrap();

    // A long upload in small chunks (the filesystem driver makes it durable
    // in the background as it goes): every byte lands, in order.
    let mut w = d.writer("w/long/data").await.unwrap();
    let mut expect = Vec::new();
    for i in 0..48u32 {
        let chunk: Vec<u8> = (0..256 * 1024u32)
            .map(|j| ((i * 7 + j) % 253) as u8)
            .collect();
        expect.extend_from_slice(&chunk);
        w.write(Bytes::from(chunk)).await.unwrap();
    }
    w.commit().await.unwrap();
    assert_eq!(w.size(), expect.len() as u64);
    drop(w);
    assert_eq!(read_all(d, "w/long/data", 0, None).await, expect);
    d.delete("w").await.unwrap();
}

async fn streaming(d: &dyn StorageDriver) {
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    d.put_content("s/blob", Bytes::from(data.clone()))
        .await
        .unwrap();
    assert_eq!(read_all(d, "s/blob", 0, None).await, data);
    assert_eq!(read_all(d, "s/blob", 10, Some(5)).await, &data[10..15]);
    assert_eq!(
        read_all(d, "s/blob", 1_999_990, None).await,
        &data[1_999_990..]
    );
    assert_eq!(
        read_all(d, "s/blob", 700_000, Some(600_000)).await,
        &data[700_000..1_300_000]
    );
    assert!(read_all(d, "s/blob", 2_000_000, None).await.is_empty());
    assert!(not_found(d.read("s/none", 0, None).await));
    d.delete("s").await.unwrap();
}

async fn rename_and_delete(d: &dyn StorageDriver) {
    d.put_content("r/src", Bytes::from_static(b"new"))
        .await
        .unwrap();
    d.put_content("r/dst/deep/file", Bytes::from_static(b"old"))
        .await
        .unwrap();
    d.rename("r/src", "r/dst/deep/file").await.unwrap();
    assert_eq!(d.get_content("r/dst/deep/file").await.unwrap(), &b"new"[..]);
    assert!(not_found(d.stat("r/src").await));
    d.put_content("r/src2", Bytes::from_static(b"x"))
        .await
        .unwrap();
    d.rename("r/src2", "r/other/parents/made").await.unwrap();
    assert!(d.stat("r/other/parents/made").await.is_ok());
    assert!(not_found(d.rename("r/none", "r/x").await));
    d.delete("r/dst/deep/file").await.unwrap();
    assert!(not_found(d.get_content("r/dst/deep/file").await));
    assert!(not_found(d.delete("r/dst/deep/file").await));
    d.delete("r").await.unwrap();
    assert!(not_found(d.stat("r").await));
}

async fn invalid_paths(d: &dyn StorageDriver) {
    for p in ["", "/abs", "a/../b", "a//b", "./a", "a/"] {
        assert!(
            matches!(d.get_content(p).await, Err(DriverError::InvalidPath(_))),
            "{p:?}"
        );
        assert!(
            matches!(
                d.put_content(p, Bytes::new()).await,
                Err(DriverError::InvalidPath(_))
            ),
            "{p:?}"
        );
    }
}
