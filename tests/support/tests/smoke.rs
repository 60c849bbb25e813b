//! Makes `cargo test --workspace` build this crate's probe programs, and checks that
//! they are where the helpers look for them.

#[test]
fn probe_programs_are_built() {
    let path = eau2_testkit::bin("cluster-check");
    assert!(path.is_file());
}

#[test]
fn repo_root_holds_the_workspace() {
    assert!(eau2_testkit::repo_root().join("Cargo.toml").is_file());
}
