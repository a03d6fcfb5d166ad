//! The repository keeps an unchanged copy of the shared conformance vectors under
//! `tests/vectors/`, so that tests pass on a fresh clone. When `../shared/conformance` exists
//! beside the repository, this test requires the copy to equal it file for file, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("prefix").to_path_buf();
            out.insert(rel, std::fs::read(&p).expect("read file"));
        }
    }
}

#[test]
fn vectors_copy_matches_shared_conformance() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let copy = repo.join("tests/vectors");
    let shared = repo.join("../shared/conformance");
    let mut mine = BTreeMap::new();
    collect(&copy, &copy, &mut mine);
    assert!(
        mine.len() > 40,
        "the vector copy looks incomplete: {} files",
        mine.len()
    );
    for dir in ["yuma/README.md", "keys/README.md", "axon/README.md"] {
        assert!(
            mine.contains_key(Path::new(dir)),
            "missing {dir} in tests/vectors"
        );
    }
    if !shared.is_dir() {
        eprintln!("../shared/conformance not present: only the copy's completeness was checked");
        return;
    }
    let mut theirs = BTreeMap::new();
    collect(&shared, &shared, &mut theirs);
    let a: Vec<_> = mine.keys().collect();
    let b: Vec<_> = theirs.keys().collect();
    assert_eq!(
        a, b,
        "tests/vectors and ../shared/conformance list different files"
    );
    for (k, v) in &theirs {
        assert!(
            mine[k] == *v,
            "tests/vectors/{} differs from ../shared/conformance",
            k.display()
        );
    }
}
