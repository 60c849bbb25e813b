//! The SoR and CSV readers read files block by block through `BlockReader`: for blocks
//! of every size (so that block boundaries fall inside quoted fields, and records are
//! longer than a block), any part and any projection, a file read gives what the same
//! bytes read from memory give; errors name the file and line; a file changed under the
//! read is an error naming it.

use std::path::PathBuf;

use eau2_data::blocks::{BlockReader, Records};
use eau2_data::csv::CsvReader;
use eau2_data::frame::{DataFrame, Schema};
use eau2_data::sor::SorReader;

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eau2-read-blocks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Every value, row by row, as text (`-` for missing).
fn rows(frame: &DataFrame) -> Vec<Vec<String>> {
    (0..frame.nrows())
        .map(|r| {
            (0..frame.ncols())
                .map(|c| match frame.get(c, r).unwrap() {
                    None => "-".to_string(),
                    Some(v) => format!("{v:?}"),
                })
                .collect()
        })
        .collect()
}

/// CSV records with quoted line breaks (some longer than the smallest blocks, one far
/// longer than any), doubled quotes and CRLF ends.
fn csv_text() -> Vec<u8> {
    let mut out = b"id,note,score\r\n".to_vec();
    for i in 0..400 {
        let note = match i % 4 {
            0 => format!("\"line\nbreak {i}, \"\"quoted\"\"\""),
            1 => format!("\"{}\"", "a,\n".repeat(i % 50)),
            2 => format!("plain{i}"),
            _ => String::new(),
        };
        out.extend_from_slice(format!("{i},{note},{i}.5\r\n").as_bytes());
    }
    out.extend_from_slice(format!("999,\"{}\",1\n", "long\n\"\"".repeat(3000)).as_bytes());
    out
}

/// SoR lines whose strings hold `>`, `<` and spaces (so a block boundary inside one
/// must not end a field), some lines longer than the smallest blocks.
fn sor_text() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..500 {
        let s = "x>y <z ".repeat(i % 30);
        out.extend_from_slice(format!("<{i}> <\"{s}{i}\"> <{}.25> <{}>\n", i, i % 2).as_bytes());
    }
    out.extend_from_slice(format!("<7> <\"{}\"> <1.5> <1>", "w".repeat(20_000)).as_bytes());
    out
}

#[test]
fn csv_files_read_by_blocks_equal_memory_for_any_block_and_part() {
    let text = csv_text();
    let path = temp("quoted.csv", &text);
    for min_block in [7, 64, 1000, 1 << 20] {
        for count in [1, 2, 3, 4] {
            for index in 0..count {
                for map in [true, false] {
                    let reader = CsvReader::new()
                        .min_part_len(min_block)
                        .memory_map(map)
                        .part(index, count);
                    let file = reader.read_path(&path).unwrap();
                    let memory = reader.read_bytes(&text).unwrap();
                    let what = format!("blocks {min_block}, part {index}/{count}, map {map}");
                    assert_eq!(file.schema, memory.schema, "{what}");
                    assert_eq!(rows(&file.frame), rows(&memory.frame), "{what}");
                    assert_eq!(
                        reader.part_quotes_path(&path).unwrap(),
                        reader.part_quotes_bytes(&text).unwrap(),
                        "{what}"
                    );
                    assert_eq!(
                        reader
                            .sample_file(&BlockReader::open(&path, Records::Csv).unwrap())
                            .unwrap(),
                        reader.sample_bytes(&text).unwrap(),
                        "{what}"
                    );
                }
            }
        }
    }
}

#[test]
fn sor_files_read_by_blocks_equal_memory_for_any_block_and_part() {
    let text = sor_text();
    let path = temp("strings.sor", &text);
    for min_block in [5, 64, 1000, 1 << 20] {
        for count in [1, 2, 3, 4] {
            for index in 0..count {
                let reader = SorReader::new().min_part_len(min_block).part(index, count);
                let file = reader.read_path(&path).unwrap();
                let memory = reader.read_bytes(&text).unwrap();
                let what = format!("blocks {min_block}, part {index}/{count}");
                assert_eq!(file.schema, memory.schema, "{what}");
                assert_eq!(rows(&file.frame), rows(&memory.frame), "{what}");
                let opened = BlockReader::open(&path, Records::Lines).unwrap();
                assert_eq!(
                    reader.sample_file(&opened).unwrap(),
                    reader.sample_bytes(&text).unwrap(),
                    "{what}"
                );
            }
        }
    }
}

/// Each column read alone is that column of the full read, for both formats.
#[test]
fn each_column_alone_equals_the_full_read() {
    let sor = sor_text();
    let sor_path = temp("alone.sor", &sor);
    let schema = Schema::from_codes("ISFB").unwrap();
    let reader = SorReader::new().schema(schema).min_part_len(64);
    let full = rows(&reader.read_path(&sor_path).unwrap().frame);
    for c in 0..4 {
        let alone = rows(
            &reader
                .clone()
                .columns(&[c])
                .read_path(&sor_path)
                .unwrap()
                .frame,
        );
        let want: Vec<Vec<String>> = full.iter().map(|r| vec![r[c].clone()]).collect();
        assert_eq!(alone, want, "SoR column {c}");
    }
    let csv = csv_text();
    let csv_path = temp("alone.csv", &csv);
    let reader = CsvReader::new().min_part_len(64);
    let full = rows(&reader.read_path(&csv_path).unwrap().frame);
    for c in 0..3 {
        let alone = rows(
            &reader
                .clone()
                .columns(&[c])
                .read_path(&csv_path)
                .unwrap()
                .frame,
        );
        let want: Vec<Vec<String>> = full.iter().map(|r| vec![r[c].clone()]).collect();
        assert_eq!(alone, want, "CSV column {c}");
    }
}

/// Strict mode checks the columns read: a misfit there names the file and its line; a
/// misfit in a column left out fails nothing.
#[test]
fn strict_errors_name_the_line_in_read_columns_only() {
    let mut text = sor_text();
    text.extend_from_slice(b"\n<8> <\"s\"> <oops> <1>\n");
    let path = temp("strict.sor", &text);
    let line = text.iter().filter(|&&b| b == b'\n').count();
    let reader = SorReader::new()
        .schema(Schema::from_codes("ISFB").unwrap())
        .strict(true)
        .min_part_len(64);
    let err = reader.read_path(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:{line}: column 2:", path.display())),
        "{err}"
    );
    let read = reader.clone().columns(&[0, 3]).read_path(&path).unwrap();
    assert_eq!(read.frame.nrows() as usize, line);

    let mut csv = csv_text();
    csv.extend_from_slice(b"5,\"x\ny\",notanumber\n");
    let path = temp("strict.csv", &csv);
    let line = csv.iter().filter(|&&b| b == b'\n').count() - 1;
    let reader = CsvReader::new()
        .schema(Schema::from_codes("LSD").unwrap())
        .min_part_len(64);
    let err = reader.read_path(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:{line}: column 2:", path.display())),
        "{err}"
    );
    assert!(reader.columns(&[1, 0]).read_path(&path).is_ok());
}

/// A file truncated while its blocks are read is an error naming it (the blocks mapped
/// after the cut read zeros under the SIGBUS guard, or come up short); one renamed over
/// the path meanwhile is not seen: the open descriptor reads one version.
#[test]
fn a_file_truncated_between_blocks_is_an_error_and_a_replaced_one_is_not_seen() {
    let text = sor_text();
    for map in [true, false] {
        let path = temp(&format!("shrinks-{map}.sor"), &text);
        let reader = BlockReader::open(&path, Records::Lines)
            .unwrap()
            .memory_map(map)
            .block_bytes(4096);
        let cut = std::sync::Once::new();
        let err = reader
            .map_blocks(|block| {
                cut.call_once(|| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .unwrap()
                        .set_len(100)
                        .unwrap()
                });
                Ok(block.len())
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("changed during the read"), "{err}");

        let path = temp(&format!("replaced-{map}.sor"), &text);
        let reader = BlockReader::open(&path, Records::Lines)
            .unwrap()
            .memory_map(map)
            .block_bytes(4096);
        let newer = temp(&format!("newer-{map}.sor"), b"<1>\n");
        let once = std::sync::Once::new();
        let read = SorReader::new()
            .min_part_len(4096)
            .memory_map(map)
            .read_file(&{
                once.call_once(|| std::fs::rename(&newer, &path).unwrap());
                reader
            })
            .unwrap();
        assert_eq!(read.frame.nrows(), 501);
    }
}
