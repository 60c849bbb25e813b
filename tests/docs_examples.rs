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
    assert!(checked >= 7, "found only {checked} quoted examples");
}

/// README.md quotes example programs after a link line `[`examples/NAME.rs`](examples/NAME.rs)`
/// (within the line before the code block): each quote must be the file as it is, less its
/// opening `//!` comment, so what the README shows is what `cargo test` compiles.
#[test]
fn readme_quotes_match_their_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    let mut rest = text.as_str();
    while let Some(at) = rest.find("[`examples/") {
        rest = &rest[at + "[`examples/".len()..];
        let Some(end) = rest.find("`]") else { break };
        let file = rest[..end].to_string();
        // The code block must start right after the link's line and one blank line.
        let Some(line_end) = rest.find('\n') else {
            break;
        };
        let after = &rest[line_end + 1..];
        let Some(body) = after.strip_prefix("\n```rust\n") else {
            continue; // a mention, not a quote
        };
        let quoted = &body[..body.find("```\n").expect("the code block ends")];
        let actual = std::fs::read_to_string(root.join("examples").join(&file)).unwrap();
        let code: Vec<&str> = actual
            .lines()
            .skip_while(|l| l.starts_with("//!"))
            .skip_while(|l| l.is_empty())
            .collect();
        assert_eq!(
            quoted,
            format!("{}\n", code.join("\n")),
            "README.md quotes examples/{file}, which has changed since: copy the file into it"
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "found only {checked} quoted examples in README.md"
    );
}
