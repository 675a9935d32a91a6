//! Config text: reading a file (bounded), applying `--set key=value` overrides, and turning
//! TOML and serde errors into messages that name the key, its line and, for typos, the key
//! meant.

use super::{Config, ConfigError, all_docs};
use std::path::Path;

/// Prints f32-valued floats at f32 precision (0.6, not 0.6000000238418579).
pub(super) fn tidy(v: toml::Value) -> toml::Value {
    match v {
        toml::Value::Float(f) => toml::Value::Float((f as f32).to_string().parse().unwrap_or(f)),
        toml::Value::Table(t) => toml::Value::Table(t.into_iter().map(|(k, v)| (k, tidy(v))).collect()),
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(tidy).collect()),
        other => other,
    }
}

pub(super) fn parse_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return ConfigError::Parse { file: file.to_string(), line: String::new(), msg };
    };
    let start = span.start.min(text.len());
    let mut line_no = text[..start].matches('\n').count() + 1;
    // Unknown keys of the flattened top level are reported at the table's span: find the key.
    if let Some(key) = msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
        if let Some(i) = text.lines().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key)) {
            line_no = i + 1;
        }
    }
    // Name the key: from the message (`unknown field `x``) or from the line itself.
    let line_text = text.lines().nth(line_no - 1).unwrap_or("");
    let table = text
        .lines()
        .take(line_no)
        .filter(|l| l.trim_start().starts_with('['))
        .last()
        .map(|l| l.trim().trim_matches(|c| c == '[' || c == ']').trim().to_string())
        .unwrap_or_default();
    let msg = match line_text.split_once('=') {
        Some((k, _)) if !msg.contains(&format!("`{}`", k.trim())) => {
            let k = k.trim();
            let key = if table.is_empty() { k.to_string() } else { format!("{table}.{k}") };
            format!("key `{key}`: {msg}")
        }
        _ => msg,
    };
    ConfigError::Parse { file: file.to_string(), line: format!(":{line_no}"), msg }
}

/// 1-based line of `key = ...` inside `[table]` (or at the top level for "").
pub fn find_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.starts_with('[') {
            current = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if let Some((k, _)) = l.split_once('=') {
            let k = k.trim();
            let full_match = k == format!("{table}.{key}") && current.is_empty();
            if (current == table && k == key) || full_match {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Largest config or spec file read (a config is a few KiB; this refuses `/dev/zero` or
/// a data file given by mistake without reading it all).
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A config or spec file's text, refused when it is larger than [`MAX_CONFIG_BYTES`].
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB: not a config file", MAX_CONFIG_BYTES >> 20),
        )
    };
    if f.metadata()?.len() > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    // Also bounded while reading: devices and pipes have no length.
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

pub(super) fn full_key(table: &str, key: &str) -> String {
    if table.is_empty() { key.to_string() } else { format!("{table}.{key}") }
}

/// The key part of a `key=value` override.
pub(super) fn override_key(arg: &str) -> &str {
    arg.split_once('=').map_or(arg, |(k, _)| k).trim()
}

/// The first (table, key, reason) whose value alone does not deserialise into a
/// [`Config`]; unknown keys get a "did you mean" from the keys of their table.
pub(super) fn locate_bad_key(table: &toml::Table) -> Option<(String, String, String)> {
    use serde::Deserialize as _;
    let fails =
        |t: toml::Table| Config::deserialize(toml::Value::Table(t)).err().map(|e| e.message().trim().to_string());
    let sections: Vec<&str> = all_docs().iter().map(|(t, _)| *t).filter(|t| !t.is_empty()).collect();
    for (k, v) in table {
        match v {
            toml::Value::Table(sub) if sections.contains(&k.as_str()) => {
                for (k2, v2) in sub {
                    let inner = toml::Table::from_iter([(k2.clone(), v2.clone())]);
                    if let Some(msg) = fails(toml::Table::from_iter([(k.clone(), toml::Value::Table(inner))])) {
                        return Some((k.clone(), k2.clone(), explain(&msg, k, k2)));
                    }
                }
            }
            _ => {
                if let Some(msg) = fails(toml::Table::from_iter([(k.clone(), v.clone())])) {
                    return Some((String::new(), k.clone(), explain(&msg, "", k)));
                }
            }
        }
    }
    None
}

/// Serde's "unknown field `x`, expected one of ..." as "unknown key; did you mean `y`?".
pub(super) fn explain(msg: &str, table: &str, key: &str) -> String {
    if !msg.starts_with("unknown field") {
        return msg.to_string();
    }
    let mut known: Vec<&str> = Vec::new();
    for (t, docs) in all_docs() {
        if t == table {
            known.extend(docs.iter().map(|d| d.key));
        } else if table.is_empty() {
            known.push(t);
        }
    }
    let best = known.iter().map(|k| (edit_distance(k, key), *k)).min();
    match best {
        Some((d, k)) if d <= 2.max(key.len() / 3) => format!("unknown key; did you mean `{}`?", full_key(table, k)),
        _ => {
            let what = if table.is_empty() { "top-level key or table" } else { "key of this table" };
            format!("unknown {what}; see `hollow config --defaults` for every key")
        }
    }
}

/// Levenshtein distance (keys are short ASCII).
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Applies `section.key=value` (or `key=value` at the top level) to a parsed table.
pub(super) fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), ConfigError> {
    let err = |reason: &str| ConfigError::Override { arg: arg.to_string(), reason: reason.to_string() };
    let (path, raw) = arg.split_once('=').ok_or_else(|| err("expected key=value, e.g. market.k=8"))?;
    let raw = raw.trim();
    let value: toml::Value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = path.trim().split('.').collect();
    let (last, sections) = parts.split_last().ok_or_else(|| err("empty key"))?;
    let mut cur = table;
    for s in sections {
        cur = cur
            .entry(s.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| err(&format!("`{s}` is not a table")))?;
    }
    cur.insert(last.to_string(), value);
    Ok(())
}
