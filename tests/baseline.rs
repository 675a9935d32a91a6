//! The shock changes the market: a short baseline run moves creators into AI and changes
//! segment shares, while the no-shock control stays all-human.

mod common;
use common::*;
use hollow::config::Config;

fn load(name: &str) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
    Config::load(&path, &[]).unwrap()
}

#[test]
fn the_shock_changes_segment_shares() {
    let mut cfg = load("baseline.toml");
    cfg.top.creators = 3000;
    cfg.top.buyers = 6000;
    cfg.top.steps = 120;
    let shock = cfg.technology.shock_step as usize;
    let (_, rec) = run_cpu(&cfg, 2);
    let ai = rec.get("share_ai").unwrap();
    let human = rec.get("share_human").unwrap();
    assert!(ai[..shock].iter().all(|&s| s < 0.01), "no AI before the shock");
    assert!(ai[rec.len() - 1] > 0.1, "AI takes a share after the shock: {}", ai[rec.len() - 1]);
    assert!(human[rec.len() - 1] < human[shock - 1] - 0.1, "human share falls");
    let units = rec.get("ai_unit_share").unwrap();
    assert!(units[rec.len() - 1] > 0.5, "AI units flood the market: {}", units[rec.len() - 1]);

    let mut control = load("no_shock.toml");
    control.top.creators = 3000;
    control.top.buyers = 6000;
    control.top.steps = 120;
    let (_, rec) = run_cpu(&control, 2);
    assert!(rec.get("share_ai").unwrap().iter().all(|&s| s < 0.01), "no AI without the shock");
}
