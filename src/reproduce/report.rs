//! The files of a reproduction: `facts.h5` (one group per fact with its measures as
//! attributes and the series behind its figure, and `/paper`), `facts.md` (the summary
//! `markdown`) and `facts.csv` (every measure, one a line). Each is written to a
//! temporary file and renamed into place by `io::output::Output`.

use super::{Report, ReproduceError};
use crate::io::OutputError;
use crate::io::output::Output;
use crate::io::tables::TableFile;
use std::fmt::Write as _;
use std::path::Path;

/// facts.h5, facts.md and facts.csv.
pub(super) fn write_outputs(dir: &Path, r: &Report) -> Result<(), ReproduceError> {
    let t = TableFile::create(&dir.join("facts.h5"), "hollow-facts")?;
    for f in &r.facts {
        let g = format!("/{}", f.id);
        t.attr_str(&g, "title", f.title)?;
        t.attr_str(&g, "criterion", &f.criterion)?;
        t.attr(&g, "holds", f64::from(u8::from(f.holds)))?;
        for x in &f.measures {
            t.attr(&g, &x.name, x.value)?;
        }
        for (name, v) in &f.series {
            t.dataset(&g, name, &[v.len()], v, "", "series behind the figure")?;
        }
    }
    for p in &r.paper {
        t.attr("/paper", &format!("{}_mean", p.name), p.mean)?;
        t.attr("/paper", &format!("{}_sd", p.name), p.sd)?;
        t.attr("/paper", &format!("{}_paper", p.name), p.paper)?;
    }
    t.finish()?;
    write_text(&dir.join("facts.md"), MD_HEAD, &markdown(r))?;
    let mut csv = format!("{CSV_HEAD}\n");
    for f in &r.facts {
        let _ = writeln!(csv, "{},holds,{},1", f.id, u8::from(f.holds));
        for x in &f.measures {
            let _ = writeln!(csv, "{},{},{},{}", f.id, x.name, x.value, x.unit);
        }
    }
    for p in &r.paper {
        let _ = writeln!(csv, "paper,{}_mean,{},{}", p.name, p.mean, p.unit);
        let _ = writeln!(csv, "paper,{}_sd,{},{}", p.name, p.sd, p.unit);
        let _ = writeln!(csv, "paper,{}_paper,{},{}", p.name, p.paper, p.unit);
    }
    write_text(&dir.join("facts.csv"), CSV_HEAD, &csv)
}

/// The markdown summary: the fact table, each fact's numbers, the paper comparison.
pub fn markdown(r: &Report) -> String {
    let mut s = String::from("# Stylized facts, measured\n\n| id | fact | holds | criterion |\n|---|---|---|---|\n");
    for f in &r.facts {
        let _ =
            writeln!(s, "| {} | {} | {} | {} |", f.id, f.title, if f.holds { "yes" } else { "**no**" }, f.criterion);
    }
    for f in &r.facts {
        let _ = writeln!(s, "\n## {} — {}\n\n| measure | value | unit | meaning |\n|---|---|---|---|", f.id, f.title);
        for x in &f.measures {
            let _ = writeln!(s, "| {} | {:.4} | {} | {} |", x.name, x.value, x.unit, x.meaning);
        }
        if let Some(p) = &f.figure {
            let _ = writeln!(
                s,
                "\n![{}]({})",
                f.id,
                p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
            );
        }
    }
    if !r.paper.is_empty() {
        s.push_str("\n## The paper's set-up (configs/paper_small.toml), ours beside the paper's\n\n| quantity | paper | ours (mean ± sd over replicas) | unit | definition |\n|---|---|---|---|---|\n");
        for p in &r.paper {
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} ± {:.4} | {} | {} |",
                p.name, p.paper, p.mean, p.sd, p.unit, p.definition
            );
        }
    }
    s
}

/// The first lines of facts.md and facts.csv: a rerun replaces a file that starts with
/// its line (an earlier report), never another file of that name.
const MD_HEAD: &str = "# Stylized facts, measured";
const CSV_HEAD: &str = "id,measure,value,unit";

/// Writes `text` (whose first line is `head`) to `path` through the crate's one atomic
/// writer (`Output`: a locked `<path>.tmp`, synced, then renamed over the path).
fn write_text(path: &Path, head: &'static str, text: &str) -> Result<(), ReproduceError> {
    debug_assert!(text.starts_with(head));
    let out = Output::create_text(path, head, false)?;
    std::fs::write(out.tmp(), text).map_err(|source| OutputError::Io {
        file: path.display().to_string(),
        doing: format!("writing temporary file {}", out.tmp().display()),
        source,
    })?;
    out.commit()?;
    Ok(())
}
