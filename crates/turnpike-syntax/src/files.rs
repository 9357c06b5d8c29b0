//! Finding policy files: one file, or every `*.xml` below a folder (dot-folders skipped).

use std::io;
use std::path::{Path, PathBuf};

/// The policy files at `path`, sorted. A file is taken whatever its extension; a folder is
/// searched recursively for `*.xml`, skipping folders whose name starts with `.`.
pub fn policy_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    walk(path, &mut out, &mut seen)?;
    out.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> io::Result<()> {
    // A folder reached twice (through a symbolic link) is read once.
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        if is_dir {
            if !name.starts_with('.') {
                walk(&path, out, seen)?;
            }
        } else if Path::new(&*name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn symbolic_link_loops_are_read_once() {
        let dir = std::env::temp_dir().join(format!("turnpike-files-{}", std::process::id()));
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap_or_default();
        std::fs::write(sub.join("p.xml"), "<policies/>").unwrap_or_default();
        let _ = std::os::unix::fs::symlink("..", sub.join("up"));
        let files = policy_files(&dir).unwrap_or_default();
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
