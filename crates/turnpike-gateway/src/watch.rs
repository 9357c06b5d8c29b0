//! Change detection by polling: a fingerprint of every file's path, size and modification
//! time below a folder. Polling needs no platform support and sees editors' rename-and-replace
//! saves as well as in-place writes.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::UNIX_EPOCH;

/// A fingerprint of the files below `root` (dot-files and dot-folders skipped).
pub fn fingerprint(root: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    walk(root, &mut h);
    h.finish()
}

/// A fingerprint of one file (0 when it is missing).
pub fn file_fingerprint(path: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    stamp(path, &mut h);
    h.finish()
}

fn stamp(path: &Path, h: &mut DefaultHasher) {
    if let Ok(m) = std::fs::metadata(path) {
        path.hash(h);
        m.len().hash(h);
        if let Ok(t) = m.modified()
            && let Ok(d) = t.duration_since(UNIX_EPOCH)
        {
            d.as_nanos().hash(h);
        }
    }
}

fn walk(dir: &Path, h: &mut DefaultHasher) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        // A symbolic link is stamped, never followed into: a link loop cannot recurse.
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        if p.is_dir() && !is_link {
            walk(&p, h);
        } else {
            stamp(&p, h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_seen() {
        let dir = std::env::temp_dir().join(format!("turnpike-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a")).expect("mkdir");
        std::fs::write(dir.join("a/x.xml"), "one").expect("write");
        let before = fingerprint(&dir);
        assert_eq!(before, fingerprint(&dir));
        std::fs::write(dir.join("a/x.xml"), "three").expect("write");
        let after = fingerprint(&dir);
        assert_ne!(before, after);
        std::fs::write(dir.join(".hidden"), "x").expect("write");
        assert_eq!(after, fingerprint(&dir));
        std::fs::write(dir.join("a/y.xml"), "new").expect("write");
        assert_ne!(after, fingerprint(&dir));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
