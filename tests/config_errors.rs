//! Bad configuration input: each kind is rejected with an error naming the key (and the
//! line where there is one) and the reason; good input round-trips.

use hollow::config::{Config, defaults_toml};

fn err(text: &str) -> String {
    match Config::from_str_named(text, "test.toml", &[]) {
        Ok(_) => panic!("accepted bad config:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_top_level_key_is_rejected_with_its_line() {
    let e = err("steps = 10\ncreaters = 5\n");
    assert!(e.contains("creaters"), "{e}");
    assert!(e.contains("test.toml:2"), "{e}");
}

#[test]
fn unknown_key_in_a_section_is_rejected() {
    let e = err("[market]\nk = 4\nrondz = 3\n");
    assert!(e.contains("rondz"), "{e}");
    assert!(e.contains(":3"), "{e}");
}

#[test]
fn unknown_section_is_rejected() {
    let e = err("[markt]\nk = 4\n");
    assert!(e.contains("markt"), "{e}");
}

#[test]
fn out_of_range_value_names_key_line_and_range() {
    let e = err("[market]\nk = 0\n");
    assert!(e.contains("market.k"), "{e}");
    assert!(e.contains("test.toml:2"), "{e}");
    assert!(e.contains("[1, 64]"), "{e}");
}

#[test]
fn human_cost_per_unit_produced_needs_q_learning() {
    let e = err("[technology]\nhuman_cost_basis = \"produced\"\n");
    assert!(e.contains("technology.human_cost_basis") && e.contains("test.toml:2"), "{e}");
    assert!(e.contains("q_learning"), "{e}");
    let e = err("[technology]\nhuman_cost_basis = \"made\"\n");
    assert!(e.contains("human_cost_basis") || e.contains("made"), "{e}");
    let ok = "[technology]\nhuman_cost_basis = \"produced\"\n[decisions]\ndecision = \"q_learning\"\n";
    assert!(Config::from_str_named(ok, "test.toml", &[]).is_ok());
}

#[test]
fn nan_and_infinity_are_rejected() {
    let e = err("[technology]\nalpha_a = nan\n");
    assert!(e.contains("technology.alpha_a") && e.contains("finite"), "{e}");
    let e = err("[market]\npollution = inf\n");
    assert!(e.contains("market.pollution") && e.contains("finite"), "{e}");
}

#[test]
fn wrong_type_is_rejected() {
    let e = err("steps = \"many\"\n");
    assert!(e.contains("steps") || e.contains("string"), "{e}");
    assert!(e.contains("test.toml:1"), "{e}");
}

#[test]
fn empty_population_is_rejected() {
    let e = err("creators = 0\n");
    assert!(e.contains("creators") && e.contains("[1,"), "{e}");
    let e = err("buyers = 0\n");
    assert!(e.contains("buyers"), "{e}");
}

#[test]
fn population_too_large_for_memory_is_rejected_before_allocating() {
    // The memory check lives with the sizes (state.rs); it runs before any allocation.
    let cfg = Config::from_str_named("creators = 900000000\nbuyers = 1000000000\n", "test.toml", &[]).unwrap();
    let e = hollow::state::check_memory(&cfg, "test.toml").unwrap_err().to_string();
    assert!(e.contains("creators") && e.contains("GiB"), "{e}");
}

#[test]
fn inconsistent_bounds_are_rejected() {
    let e = err("[technology]\nx_lo = 0.6\nx_hi = 0.4\n");
    assert!(e.contains("technology.x_hi") && e.contains("x_lo"), "{e}");
    let e = err("[market]\ntheta_lo = 2.0\ntheta_hi = 1.0\n");
    assert!(e.contains("market.theta_hi"), "{e}");
}

#[test]
fn snapshot_beyond_the_run_is_rejected() {
    let e = err("steps = 10\nsnapshot_steps = [3, 10]\n");
    assert!(e.contains("snapshot_steps") && e.contains("beyond"), "{e}");
}

#[test]
fn unknown_enum_value_is_rejected() {
    let e = err("[decisions]\ndecision = \"vibes\"\n");
    assert!(e.contains("vibes") || e.contains("decision"), "{e}");
    let e = err("[technology]\nshock_ramp = \"cliff\"\n");
    assert!(e.contains("cliff") || e.contains("shock_ramp"), "{e}");
}

#[test]
fn bad_override_is_rejected_naming_the_argument() {
    let r = Config::from_str_named("", "t.toml", &["market.k".to_string()]);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("--set market.k") && e.contains("key=value"), "{e}");
    let e = Config::from_str_named("", "t.toml", &["market.k=0".to_string()]).unwrap_err().to_string();
    assert!(e.contains("market.k"), "{e}");
}

#[test]
fn overrides_apply_to_sections_and_top_level() {
    let c = Config::from_str_named("steps = 5\n", "t.toml", &["market.k=8".into(), "creators=77".into()]).unwrap();
    assert_eq!(c.market.k, 8);
    assert_eq!(c.top.creators, 77);
    assert_eq!(c.top.steps, 5);
}

#[test]
fn defaults_text_parses_back_to_the_defaults_and_names_scripted_keys_on_own_lines() {
    let text = defaults_toml();
    let c = Config::from_str_named(&text, "defaults", &[]).unwrap();
    assert_eq!(c, Config::default());
    for key in ["creators", "buyers", "steps"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{key} = "))), "{key} missing");
    }
}

#[test]
fn stored_config_text_round_trips() {
    let c = Config::from_str_named("seed = 9\n[market]\npollution = 1.5\n", "t.toml", &[]).unwrap();
    let back = Config::from_str_named(&c.to_toml(), "stored", &[]).unwrap();
    assert_eq!(c, back);
}

#[test]
fn shipped_configs_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{dir}: {e}")).path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // Sweep specs are a different format; run configs have no [sweep] table.
            if text.contains("[sweep]") || text.contains("[[axis]]") {
                continue;
            }
            Config::from_str_named(&text, &path.display().to_string(), &[]).unwrap_or_else(|e| panic!("{e}"));
            checked.extend(path.file_name().and_then(|n| n.to_str()).map(str::to_string));
        }
    }
    // An empty or renamed configs/ would pass the loop above: the scenarios the README
    // names must be among the files checked.
    for name in ["baseline.toml", "no_shock.toml", "paper_small.toml"] {
        assert!(checked.iter().any(|c| c == name), "configs/{name} was not found or not checked (checked {checked:?})");
    }
}

#[test]
fn a_type_error_names_its_own_key_and_line() {
    let e = err("steps = 10\ncreators = 5\nbuyers = 9\nseed = \"abc\"\n");
    assert!(e.contains("test.toml:4") && e.contains("`seed`"), "{e}");
    assert!(!e.contains("steps") && !e.contains(":1:"), "{e}");
    let e = err("steps = 10\n[market]\nk = 2\npollution = \"lots\"\n");
    assert!(e.contains("test.toml:4") && e.contains("`market.pollution`"), "{e}");
}

fn set_err(text: &str, set: &str) -> String {
    match Config::from_str_named(text, "test.toml", &["creators=9".to_string(), set.to_string()]) {
        Ok(_) => panic!("accepted --set {set}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_override_blames_its_own_argument_not_the_file() {
    let file = "steps = 10\ncreators = 5\nbuyers = 9\n";
    for (set, key) in [("steps=abc", "`steps`"), ("seed=abc", "`seed`"), ("market.k=0", "`market.k`")] {
        let e = set_err(file, set);
        assert!(e.contains(&format!("--set {set}")) && e.contains(key), "{e}");
        assert!(!e.contains("buyers") && !e.contains("test.toml") && !e.contains("creators=9"), "{e}");
    }
}

#[test]
fn an_unknown_key_gets_a_suggestion() {
    let e = err("steps = 10\ncreaters = 5\n");
    assert!(e.contains("test.toml:2") && e.contains("did you mean `creators`?"), "{e}");
    let e = err("[market]\nrondz = 3\n");
    assert!(e.contains("did you mean `market.rounds`?"), "{e}");
    let e = set_err("", "market.pollutoin=1");
    assert!(e.contains("--set market.pollutoin=1") && e.contains("did you mean `market.pollution`?"), "{e}");
}

#[test]
fn every_u64_seed_loads_and_round_trips_through_the_stored_text() {
    for seed in [0, 1, i64::MAX as u64, 1 << 63, u64::MAX] {
        let c = Config::from_str_named("", "t.toml", &[format!("seed={seed}")]).unwrap();
        assert_eq!(c.top.seed, seed);
        let back = Config::from_str_named(&c.to_toml(), "stored", &[]).unwrap();
        assert_eq!(back, c);
    }
    assert!(err("seed = -1\n").contains("`seed`"));
    let c = Config::from_str_named("seed = 18446744073709551615\n", "t.toml", &[]).unwrap();
    assert_eq!(Config::from_str_named(&c.to_toml(), "stored", &[]).unwrap(), c);
}

/// A small deterministic generator (xorshift64*): the same cases on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    /// Integers at the edges of every integer type (above i64::MAX: TOML's own integers
    /// stop there, serde hands these out as u64).
    const INTS: [&'static str; 12] = [
        "0",
        "1",
        "-1",
        "2",
        "64",
        "65",
        "4096",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
    ];

    /// Mostly a value of the key's own type (so that many configs load and reach the
    /// code after parsing), sometimes one of any type.
    fn value_like(&mut self, default: &toml::Value) -> String {
        if self.below(10) < 3 {
            return self.value(2);
        }
        match default {
            toml::Value::Integer(d) => match self.below(3) {
                0 => self.pick(&Self::INTS).to_string(),
                1 => d.to_string(),
                _ => (d + self.below(5) as i64).to_string(),
            },
            toml::Value::Float(d) => match self.below(3) {
                0 => self.value(0),
                _ => format!("{:?}", d * (self.below(300) as f64 / 100.0)),
            },
            toml::Value::Boolean(_) => self.pick(&["true", "false"]).to_string(),
            toml::Value::Array(_) => format!("[{}]", self.below(3)),
            _ => self.value(1),
        }
    }

    /// A TOML value of any type and range, including the edges of every numeric type.
    fn value(&mut self, depth: u32) -> String {
        let ints = Self::INTS;
        let floats = ["0.0", "-0.0", "0.5", "1.0", "-1.5", "1e6", "1e300", "-1e300", "nan", "inf", "-inf", "1e-45"];
        let strs = ["\"step\"", "\"logit\"", "\"q_learning\"", "\"\"", "\"18446744073709551615\"", "\"abc\"", "\"-3\""];
        match self.below(if depth > 0 { 8 } else { 6 }) {
            0 => self.pick(&ints).to_string(),
            1 => format!("{}", self.next() as i64 >> self.below(64)),
            2 => self.pick(&floats).to_string(),
            3 => format!("{:e}", f64::from_bits(self.next())).replace("NaN", "nan"),
            4 => self.pick(&strs).to_string(),
            5 => self.pick(&["true", "false", "1979-05-27T07:32:00Z"]).to_string(),
            6 => {
                let n = self.below(4);
                format!("[{}]", (0..n).map(|_| self.value(depth - 1)).collect::<Vec<_>>().join(", "))
            }
            _ => format!("{{ x = {} }}", self.value(depth - 1)),
        }
    }
}

#[test]
fn generated_configs_never_panic_and_what_loads_round_trips() {
    // The real key set, by table, from the defaults printout.
    let defaults: toml::Table = defaults_toml().parse().unwrap();
    let mut tables: Vec<(String, Vec<(String, toml::Value)>)> = vec![(String::new(), Vec::new())];
    for (k, v) in &defaults {
        match v {
            toml::Value::Table(t) => tables.push((k.clone(), t.clone().into_iter().collect())),
            _ => tables[0].1.push((k.clone(), v.clone())),
        }
    }
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut loaded = 0;
    for case in 0..3000 {
        let mut text = String::new();
        let mut sets = Vec::new();
        for (ti, (table, keys)) in tables.iter().enumerate() {
            if ti > 0 && g.below(3) == 0 {
                text.push_str(&format!("[{table}]\n"));
            } else if ti > 0 {
                continue;
            }
            for _ in 0..g.below(4) {
                // Mostly real keys; sometimes one from another table or a made-up one.
                let (key, default) = match g.below(12) {
                    0 => ("nonsense".to_string(), toml::Value::Integer(0)),
                    1 => g.pick(&tables).1.first().cloned().unwrap_or(("x".into(), toml::Value::Integer(0))),
                    _ => g.pick(keys).clone(),
                };
                if text.lines().any(|l| l.starts_with(&format!("{key} = "))) {
                    continue;
                }
                let v = g.value_like(&default);
                text.push_str(&format!("{key} = {v}\n"));
            }
            if g.below(4) == 0 && !keys.is_empty() {
                let (key, default) = g.pick(keys).clone();
                let full = if table.is_empty() { key } else { format!("{table}.{key}") };
                let v = g.value_like(&default);
                sets.push(format!("{full}={v}"));
            }
        }
        let result = std::panic::catch_unwind(|| Config::from_str_named(&text, "gen.toml", &sets));
        let r = result.unwrap_or_else(|_| panic!("case {case} panicked:\n{text}\n--set {sets:?}"));
        match r {
            Ok(c) => {
                loaded += 1;
                let back = Config::from_str_named(&c.to_toml(), "stored", &[])
                    .unwrap_or_else(|e| panic!("case {case}: stored text does not load: {e}\n{text}"));
                assert_eq!(back, c, "case {case}:\n{text}");
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // The generator reaches both sides of validation.
    assert!(loaded > 300 && loaded < 3000, "{loaded} of 3000 loaded");
}

#[test]
fn the_platform_price_floor_is_validated_like_every_key() {
    let e = err("seed = 1\n[technology]\nai_price_floor = -0.1\n");
    assert!(e.contains("technology.ai_price_floor") && e.contains("test.toml:3") && e.contains("[0,"), "{e}");
    let e = err("[technology]\nai_price_floor = nan\n");
    assert!(e.contains("technology.ai_price_floor") && e.contains("finite"), "{e}");
    // A floor below the fee is no error: the fee binds (the defaults text says so).
    let c = Config::from_str_named("[technology]\nai_price_floor = 0.0\napi_fee = 0.05\n", "t.toml", &[]).unwrap();
    assert_eq!(c.technology.ai_price_floor, 0.0);
    assert!(defaults_toml().replace("\n# ", " ").contains("a floor below the fee simply lets the fee bind"));
}
