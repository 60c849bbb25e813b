//! eau2-bench-charts draws collectives charts from results files, as collectives.sh
//! calls it.

use std::process::Command;

#[test]
fn collectives_charts_from_results_files() {
    let dir = std::env::temp_dir().join(format!("eau2-bench-charts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for n in [2, 4] {
        let mpi = dir.join(format!("mpi-{n}.txt"));
        let eau2 = dir.join(format!("eau2-{n}.txt"));
        std::fs::write(
            &mpi,
            format!("all_reduce 65536 {n} 0.05\nall_reduce 1048576 {n} 0.6\n"),
        )
        .unwrap();
        // eau2's file is its report too: only the `op bytes ranks ms` lines count.
        std::fs::write(
            &eau2,
            format!("all_reduce 65536 {n} 0.1\n| a | b |\nall_reduce 1048576 {n} 0.8\n"),
        )
        .unwrap();
        files.extend([mpi, eau2]);
    }
    let out = dir.join("charts");
    let status = Command::new(env!("CARGO_BIN_EXE_eau2-bench-charts"))
        .arg("collectives")
        .arg("--out")
        .arg(&out)
        .args(&files)
        .status()
        .unwrap();
    assert!(status.success());
    for name in ["all_reduce-vs-size", "all_reduce-vs-ranks"] {
        let svg = std::fs::read_to_string(out.join(format!("collectives-{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        for series in [
            "eau2, 2 ranks",
            "Open MPI, 4 ranks",
            "eau2, 64 KiB",
            "Open MPI, 1 MiB",
        ] {
            let wanted = name.ends_with("size") == series.ends_with("ranks");
            assert_eq!(
                svg.contains(&format!(">\n{series}\n<")),
                wanted,
                "{name}: {series}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
