//! The guide quotes its example programs whole; each quote must be the file as it is,
//! since the file is what `cargo test` compiles and runs.

use std::path::Path;

#[test]
fn every_quoted_example_matches_its_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // A quote is a link line `[`examples/NAME.rs`](../examples/NAME.rs):`, a blank
        // line, then a rust code block holding the file.
        let mut rest = text.as_str();
        while let Some(at) = rest.find("[`examples/") {
            rest = &rest[at + "[`examples/".len()..];
            let Some(end) = rest.find("`]") else { break };
            let file = &rest[..end];
            let link = format!("{file}`](../examples/{file}):\n\n```rust\n");
            let Some(body) = rest.strip_prefix(link.as_str()) else {
                continue; // a mention, not a quote
            };
            let quoted = &body[..body.find("```\n").expect("the code block ends")];
            let actual = std::fs::read_to_string(root.join("examples").join(file)).unwrap();
            assert!(
                quoted == actual,
                "{} quotes examples/{file}, which has changed since: copy the file into it",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "found only {checked} quoted examples");
}
