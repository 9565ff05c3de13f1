//! Directory placement hints for the filesystem under the data and exec
//! roots.
//!
//! Every container gets directories of its own (its container directory,
//! its snapshot, its bundle, the runtime's and the shim's state) that are
//! made and removed with it. ext4's Orlov allocator puts a new directory in
//! its parent's block group, and a new file in its directory's, so all of
//! them share one group. Without a journal, ext4 skips the inodes freed in
//! the last 30 s to 3 min (`recently_deleted`), reading each one's inode
//! table entry, and it scans from the start of the group every time: after
//! a few hundred containers came and went, every inode made costs a walk
//! over all those freed before it. Starting 20 containers at once spent up
//! to a quarter of the machine's CPU there.
//!
//! Marking the parent as the top of directory hierarchies (`chattr +T`,
//! `FS_TOPDIR_FL`) makes ext4 spread its subdirectories over block groups
//! as it does for directories at the root, so each container's inodes land
//! in a group of their own. Elsewhere the flag is unknown or ignored, and
//! so is a failure to set it: it is only a placement hint.

use std::os::fd::AsRawFd;
use std::path::Path;

/// `FS_TOPDIR_FL` from `<linux/fs.h>`.
const FS_TOPDIR_FL: libc::c_long = 0x0002_0000;

nix::ioctl_read!(get_flags, b'f', 1, libc::c_long);
nix::ioctl_write_ptr!(set_flags, b'f', 2, libc::c_long);

/// Creates `dir` (and its parents) if needed and asks the filesystem to
/// spread its subdirectories (see the module's text). Fails only when the
/// directory cannot be made.
pub fn create_spread(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    spread(dir);
    Ok(())
}

/// Sets `FS_TOPDIR_FL` on `dir` when the filesystem knows the flag.
/// Returns whether the flag is set.
pub fn spread(dir: &Path) -> bool {
    let Ok(f) = std::fs::File::open(dir) else {
        return false;
    };
    let mut flags: libc::c_long = 0;
    // SAFETY: FS_IOC_GETFLAGS and FS_IOC_SETFLAGS read and write one long
    // through a valid pointer on an open directory.
    unsafe {
        if get_flags(f.as_raw_fd(), &mut flags).is_err() {
            return false;
        }
        if flags & FS_TOPDIR_FL != 0 {
            return true;
        }
        flags |= FS_TOPDIR_FL;
        set_flags(f.as_raw_fd(), &flags).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_set_where_the_filesystem_has_it_and_a_miss_is_harmless() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        create_spread(&d).unwrap();
        assert!(d.is_dir());
        let set = spread(&d);
        // Read back independently of `spread`'s own answer.
        let f = std::fs::File::open(&d).unwrap();
        let mut flags: libc::c_long = 0;
        // SAFETY: as in `spread`.
        let known = unsafe { get_flags(f.as_raw_fd(), &mut flags) }.is_ok();
        assert_eq!(set, known && flags & FS_TOPDIR_FL != 0, "flags {flags:#x}");
        // ext4 (this machine's /tmp) keeps it.
        if nix::sys::statfs::statfs(t.path())
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::EXT4_SUPER_MAGIC)
        {
            assert!(set, "ext4 did not keep FS_TOPDIR_FL");
        }
        // Not a directory: no flag, no error.
        assert!(!spread(&t.path().join("missing")));
    }
}
