//! Parsing a sweep spec's TOML: axes (`[[axis]]`), run lists (`[[run]]`), series, and
//! the small conversions between TOML values, config keys and `--set` overrides.

use super::*;

/// "k=v, k=v" of a run's overrides ("no overrides" when it has none).
pub(super) fn describe_overrides(o: &[(String, f64)]) -> String {
    if o.is_empty() {
        return "no overrides (the base config)".into();
    }
    o.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The number at dotted `key` of a config as TOML (integers as f64).
pub(super) fn config_number(t: &toml::Table, key: &str) -> Option<f64> {
    let mut parts = key.split('.').peekable();
    let mut table = t;
    while let Some(p) = parts.next() {
        let v = table.get(p)?;
        if parts.peek().is_none() {
            return as_f64(v);
        }
        table = v.as_table()?;
    }
    None
}

/// `key=value` for `Config::from_str_named`; floats in Rust's round-trip form (always a
/// valid TOML float), integers as integers.
pub(super) fn override_arg(key: &str, v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 && is_integer_key(key) {
        format!("{key}={}", v as i64)
    } else {
        format!("{key}={v:?}")
    }
}

pub(super) fn is_integer_key(key: &str) -> bool {
    numeric_keys().iter().any(|(k, int)| k == key && *int)
}

/// `[set]` tables flattened to `a.b=value` strings (both `market.k = 8` and a nested
/// `[set.market]` table give `market.k=8`).
pub(super) fn flatten_set(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(sub) => flatten_set(&key, sub, out),
            other => out.push(format!("{key}={other}")),
        }
    }
}

pub(super) fn get_uint(t: &toml::Table, key: &str, file: &str) -> Result<Option<u64>, SweepError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
        Some(v) => Err(SweepError::Spec {
            file: file.to_string(),
            key: key.to_string(),
            reason: format!("must be a non-negative integer, got {v}"),
        }),
    }
}

pub(super) fn as_f64(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

pub(super) fn parse_axis(
    i: usize,
    v: &toml::Value,
    numeric: &[(String, bool)],
    file: &str,
) -> Result<Axis, SweepError> {
    let bad =
        |k: &str, reason: String| SweepError::Spec { file: file.to_string(), key: format!("axis[{i}].{k}"), reason };
    let t = v.as_table().ok_or_else(|| bad("", "must be a table ([[axis]])".into()))?;
    if let Some(k) = t.keys().find(|k| !AXIS_KEYS.contains(&k.as_str())) {
        return Err(bad(k, format!("unknown key; an axis has {}", AXIS_KEYS.join(", "))));
    }
    let key = t.get("key").and_then(|v| v.as_str()).ok_or_else(|| {
        bad("key", "missing or not a string: name a numeric config key, e.g. \"market.pollution\"".into())
    })?;
    let Some(integer) = numeric.iter().find(|(k, _)| k == key).map(|(_, int)| *int) else {
        let near: Vec<&str> = numeric
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| k.ends_with(key.rsplit('.').next().unwrap_or(key)))
            .collect();
        let hint = if near.is_empty() {
            "see `hollow config --defaults`".to_string()
        } else {
            format!("did you mean {}?", near.join(" or "))
        };
        return Err(bad("key", format!("`{key}` is not a numeric config key; {hint}")));
    };
    if key == "seed" {
        return Err(bad("key", "`seed` cannot be an axis: seeds are derived per run; use replicas".into()));
    }
    if key == "steps" {
        // The sweep file stores one `steps` for all cells (and the spec hash takes it from
        // the spec), so an axis over it would leave a wrong attribute.
        return Err(bad("key", "`steps` cannot be an axis: give `steps` as a top-level key of the spec".into()));
    }
    let label = match t.get("label") {
        None => key.to_string(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("label", "must be a string".into())),
    };
    let scale = match t.get("scale") {
        None => Scale::Linear,
        Some(toml::Value::String(s)) => {
            Scale::parse(s).ok_or_else(|| bad("scale", format!("must be \"linear\" or \"log\", got \"{s}\"")))?
        }
        Some(_) => return Err(bad("scale", "must be \"linear\" or \"log\"".into())),
    };
    let has_range = ["from", "to", "n"].iter().any(|k| t.contains_key(*k));
    let mut values = match (t.get("values"), has_range) {
        (Some(_), true) => return Err(bad("values", "give either values = [...] or from/to/n, not both".into())),
        (None, false) => return Err(bad("values", "missing: give values = [...] or from, to and n".into())),
        (Some(toml::Value::Array(a)), false) => {
            let v: Vec<f64> = a
                .iter()
                .map(as_f64)
                .collect::<Option<_>>()
                .ok_or_else(|| bad("values", "must be a list of numbers".into()))?;
            if v.is_empty() {
                return Err(bad("values", "is empty".into()));
            }
            if integer {
                if let Some(x) = v.iter().find(|x| x.fract() != 0.0) {
                    return Err(bad("values", format!("`{key}` is an integer key, got {x}")));
                }
            }
            v
        }
        (Some(_), false) => return Err(bad("values", "must be a list of numbers".into())),
        (None, true) => {
            let num = |k: &str| t.get(k).and_then(as_f64).ok_or_else(|| bad(k, "missing or not a number".into()));
            let (from, to) = (num("from")?, num("to")?);
            let n = match t.get("n") {
                Some(toml::Value::Integer(n)) if (1..=65_536).contains(n) => *n as usize,
                Some(v) => return Err(bad("n", format!("must be an integer in [1, 65536], got {v}"))),
                None => return Err(bad("n", "missing: the number of points".into())),
            };
            if scale == Scale::Log && (from <= 0.0 || to <= 0.0) {
                return Err(bad(
                    if from <= 0.0 { "from" } else { "to" },
                    format!("a log axis needs positive ends, got from = {from}, to = {to}"),
                ));
            }
            if n == 1 && from != to {
                return Err(bad("n", "one point needs from = to; give n >= 2 for a range".into()));
            }
            let v: Vec<f64> = (0..n)
                .map(|k| {
                    let f = if n == 1 { 0.0 } else { k as f64 / (n - 1) as f64 };
                    match scale {
                        Scale::Linear => from + f * (to - from),
                        Scale::Log => (from.ln() + f * (to.ln() - from.ln())).exp(),
                    }
                })
                .collect();
            // Exact ends, whatever the rounding of the interpolation.
            let mut v = v;
            v[0] = from;
            v[n - 1] = to;
            if integer {
                v.iter_mut().for_each(|x| *x = x.round());
            }
            v
        }
    };
    if let Some(x) = values.iter().find(|x| !x.is_finite()) {
        return Err(bad("values", format!("must be finite, got {x}")));
    }
    if scale == Scale::Log && values.iter().any(|&x| x <= 0.0) {
        return Err(bad("values", "a log axis needs positive values".into()));
    }
    if let Some(w) = values.windows(2).find(|w| w[1] <= w[0]) {
        let why = if integer && has_range { " (after rounding to integers: use fewer points)" } else { "" };
        return Err(bad("values", format!("must be strictly increasing{why}; {} is followed by {}", w[0], w[1])));
    }
    if !integer {
        // Config floats are f32: values distinct in f64 may be one value in the run.
        if let Some(w) = values.windows(2).find(|w| w[1] as f32 <= w[0] as f32) {
            return Err(bad(
                "values",
                format!(
                    "{} and {} are the same value as `{key}` stores it (a 32-bit float, {}); space the values further apart",
                    w[0], w[1], w[0] as f32
                ),
            ));
        }
    }
    values.shrink_to_fit();
    Ok(Axis { key: key.to_string(), label, scale, values })
}

/// `series = [...]`: per-step metric names (`observe::METRICS`), each at most once.
pub(super) fn parse_series(t: &toml::Table, file: &str) -> Result<Vec<String>, SweepError> {
    let bad = |reason: String| SweepError::Spec { file: file.to_string(), key: "series".into(), reason };
    let names: Vec<String> = match t.get("series") {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("must be a list of per-step metric names (strings)".into()))?,
        Some(_) => return Err(bad("must be a list of per-step metric names, e.g. [\"welfare\", \"share_ai\"]".into())),
    };
    let known: Vec<&str> = observe::METRICS.iter().map(|m| m.name).filter(|&n| n != "step").collect();
    for (i, n) in names.iter().enumerate() {
        if !known.contains(&n.as_str()) {
            return Err(bad(format!("unknown per-step metric \"{n}\"; known: {}", known.join(", "))));
        }
        if names[..i].contains(n) {
            return Err(bad(format!("\"{n}\" is listed twice")));
        }
    }
    Ok(names)
}

/// One `[[run]]` table: numeric config keys and their values (`technology.ai_cost_scale =
/// 2.0`, a quoted `"technology.ai_cost_scale" = 2.0` or a `[run.technology]` table alike).
pub(super) fn parse_run(
    i: usize,
    v: &toml::Value,
    numeric: &[(String, bool)],
    file: &str,
) -> Result<RunPlan, SweepError> {
    let bad = |k: &str, reason: String| SweepError::Spec {
        file: file.to_string(),
        key: if k.is_empty() { format!("run[{i}]") } else { format!("run[{i}].{k}") },
        reason,
    };
    let t = v.as_table().ok_or_else(|| bad("", "must be a table ([[run]]) of config overrides".into()))?;
    let mut flat = Vec::new();
    flatten_values("", t, &mut flat);
    let mut overrides: Vec<(String, f64)> = Vec::new();
    for (key, value) in flat {
        let Some(integer) = numeric.iter().find(|(k, _)| *k == key).map(|(_, int)| *int) else {
            return Err(bad(
                &key,
                format!(
                    "`{key}` is not a numeric config key; a run overrides numeric keys, as an axis does (see \
                     `hollow config --defaults`); put other keys in [set]"
                ),
            ));
        };
        if key == "seed" || key == "steps" {
            return Err(bad(
                &key,
                format!(
                    "`{key}` cannot be set per run: give it as a top-level key of the spec (seeds come from replicas)"
                ),
            ));
        }
        let x = as_f64(&value).ok_or_else(|| bad(&key, format!("must be a number, got {value}")))?;
        if !x.is_finite() || (integer && x.fract() != 0.0) {
            let what = if integer { "an integer" } else { "a finite number" };
            return Err(bad(&key, format!("`{key}` must be {what}, got {x}")));
        }
        if overrides.iter().any(|(k, _)| *k == key) {
            return Err(bad(&key, "is given twice".into()));
        }
        overrides.push((key, x));
    }
    Ok(RunPlan { overrides })
}

/// A TOML table flattened to dotted keys and their values.
pub(super) fn flatten_values(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(sub) => flatten_values(&key, sub, out),
            other => out.push((key, other.clone())),
        }
    }
}

/// SplitMix64's finaliser: a bijective 64-bit mix.
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bit: a stable content hash (identity of a spec, not security).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Every outcome name a spec may list (for help texts).
pub fn known_metrics() -> Vec<&'static str> {
    OUTCOMES.iter().chain(DERIVED_OUTCOMES).copied().collect()
}
