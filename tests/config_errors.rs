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
    let e = err("creators = 900000000\nbuyers = 1000000000\n");
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
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            // Sweep specs are a different format; run configs have no [sweep] table.
            if text.contains("[sweep]") || text.contains("[[axis]]") {
                continue;
            }
            Config::from_str_named(&text, &path.display().to_string(), &[]).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
