//! The paper's set-up, second pass (configs/paper_small.toml, docs/model.md): the
//! Q-learning opt-ins (rare exploration, an outside option, fast forgetting, uncapped AI
//! volume) give a recognition phase, then the untalented leave human craft and the
//! talented stay. Kept apart from tests/facts.rs so it runs on its own (about 2 s).

use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::reproduce::{self, Run};
use hollow::state::State;
use std::path::Path;

fn cpu(s: State, _: &Config) -> Result<Box<dyn hollow::backend::Backend>, String> {
    Ok(Box::new(CpuBackend::new(s, 0)))
}

#[test]
fn paper_set_up_has_a_recognition_lag_then_the_talented_stay() {
    let cfg = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper_small.toml"), &[]).unwrap();
    let runs: Vec<Run> = (0..6)
        .map(|s| {
            let mut c = cfg.clone();
            c.top.seed = 1 + s;
            reproduce::run_sim(&c, &cpu, true).unwrap()
        })
        .collect();
    let rows = reproduce::paper_rows(&runs);
    for r in &rows {
        eprintln!("{:<32} paper {:>8.4}  ours {:>8.4} ± {:.4}", r.name, r.paper, r.mean, r.sd);
    }
    let get = |n: &str| rows.iter().find(|r| r.name == n).unwrap().mean;
    // 20 seeds (`hollow reproduce --only paper`): lag 25 +- 14 steps, survivors 26%,
    // HHI 0.027 -> 0.18, skill shifts -0.13 / +0.13.
    assert!(get("recognition_lag") >= 10.0, "a recognition lag: {}", get("recognition_lag"));
    let survivors = get("survivor_share");
    assert!((0.1..0.6).contains(&survivors), "survivors {survivors}");
    assert!(get("hhi_final") > 3.0 * get("hhi_pre"), "revenue concentrates");
    assert!(get("survivor_creative_shift") > 0.0 && get("survivor_technical_shift") < 0.0);
    let shock = cfg.technology.shock_step as usize;
    for r in &runs {
        let h = r.rec.get("share_human").unwrap();
        assert!(h[..shock].iter().all(|&v| v == 1.0), "all human before the shock");
        // The talented stay: survivors' mean talent well above everyone's before the shock.
        let t = r.rec.get("mean_talent_human").unwrap();
        assert!(t[t.len() - 1] > 1.2 * t[shock - 1], "survivors' talent {} -> {}", t[shock - 1], t[t.len() - 1]);
    }
}
