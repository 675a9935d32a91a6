//! Stage 6, decide (mirrors CpuBackend::decide): the logit mode revision and the skill
//! drift of every creator (`decide`), or with `decision == 1` the Q-learning step
//! (`decide_q`, rewarded with this step's profit), against the market curves, which the host uploads each step
//! (`curves`, laid out as in model::market: `[(R, P); 2 * bins]`, AI channel first) with
//! the creative-share grid (`grid`: (x_g, human_factor(x_g)) from model::rules::grid_x and
//! grid_factors, computed once on the host so both backends use the same grid points).

@group(0) @binding(1) var<storage, read> curves: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> grid: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> talent: array<f32>;
@group(0) @binding(4) var<storage, read_write> mode: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> offer: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> vol: array<f32>;
@group(0) @binding(8) var<storage, read_write> provider: array<u32>;
// Q-learning state (written) and this step's accounts (its reward).
@group(0) @binding(9) var<storage, read_write> qvals: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> reskill: array<u32>;
@group(0) @binding(11) var<storage, read> revenue: array<f32>;
@group(0) @binding(12) var<storage, read> cap: array<u32>;
@group(0) @binding(13) var<storage, read> sold: array<u32>;

// Mirrors model::market::curve_at.
// Market m's curves start at cell 2 bins m.
fn curve_at(ch: u32, q: f32) -> vec2<f32> {
    return curves[(2u * mk + ch) * p.bins + bin_of(q, p.q_max, p.bins)];
}

// Mirrors model::market::expected_profit_human (costs from model::rules::costs_of).
fn expected_profit_human(rp: vec2<f32>) -> f32 {
    return rp.x * (rp.y - p.c_human + p.subsidy);
}

// Mirrors model::market::expected_profit_ai.
fn expected_profit_ai(rp: vec2<f32>, vol: f32) -> f32 {
    let m = rp.x * (rp.y - p.api_fee) - p.c_ai - p.unit_tax;
    let v = select(1.0, vol, m > 0.0);
    return v * m - p.f_ai - p.adoption_tax;
}

// Mirrors model::rules::expected_volume.
fn expected_volume(m: u32, v: f32) -> f32 {
    return select(p.vol_expect, v, m == AI);
}

// Mirrors model::rules::mode_profit.
fn mode_profit(m: u32, s: f32, xx: f32, hf: f32, v_star: f32) -> f32 {
    if (m == AI) {
        let q = q_ai(s, xx, p.alpha_a, p.qbar_a);
        return expected_profit_ai(curve_at(CH_AI, q), v_star);
    }
    return expected_profit_human(curve_at(CH_HUMAN, s * hf));
}

// Mirrors model::market::logit_choice.
fn logit_choice(pi: vec3<f32>, beta: f32, u: f32) -> u32 {
    let m = max(max(pi.x, pi.y), pi.z);
    let e0 = exp(beta * (pi.x - m));
    let e1 = exp(beta * (pi.y - m));
    let e2 = exp(beta * (pi.z - m));
    let t = u * (e0 + e1 + e2);
    if (t < e0) {
        return 0u;
    }
    if (t < e0 + e1) {
        return 1u;
    }
    return 2u;
}

// Mirrors model::rules::grid_x (values precomputed on the host with that function).
// Market m's grid starts at point MAX_GRID m (the grid depends on its execution weight).
fn grid_x(g: u32) -> f32 {
    return grid[mk * MAX_GRID + g].x;
}

// Mirrors model::rules::grid_factors (values precomputed on the host).
fn grid_factor(g: u32) -> f32 {
    return grid[mk * MAX_GRID + g].y;
}

/// Grid points per market in `grid`, as buffers::MAX_GRID.
const MAX_GRID: u32 = 256u;

struct Decided {
    mode: u32,
    x: f32,
    price: f32,
    vol: f32,
    provider: u32,
}

// Mirrors model::rules::decide.
fn decide(s: f32, x_in: f32, m: u32, price: f32, v: f32, prov: u32, w: vec4<u32>) -> Decided {
    let hf = human_factor(x_in, p.w, p.inv_z);
    let v_star = expected_volume(m, v);
    let pi_ai = mode_profit(AI, s, x_in, hf, v_star);
    let pi_h = mode_profit(HUMAN, s, x_in, hf, v_star);
    var new_mode = m;
    if (unit_f32(w.x) < p.revise) {
        new_mode = logit_choice(vec3<f32>(0.0, pi_ai, pi_h), p.logit, unit_f32(w.y));
    }
    // Skill drift toward the best response of the better productive mode.
    var target_mode = new_mode;
    if (new_mode == EXIT) {
        target_mode = select(HUMAN, AI, pi_ai > pi_h);
    }
    var best = select(pi_h, pi_ai, target_mode == AI);
    var x_star = x_in;
    let n = max(p.x_grid, 2u);
    for (var g = 0u; g < n; g++) {
        let xg = grid_x(g);
        let val = mode_profit(target_mode, s, xg, grid_factor(g), v_star);
        if (val > best) {
            best = val;
            x_star = xg;
        }
    }
    let new_x = clamp(x_in + p.eta * (x_star - x_in), p.x_lo, p.x_hi);
    var out = Decided(new_mode, new_x, price, v, prov);
    if (new_mode != m && new_mode != EXIT) {
        let ch = select(CH_HUMAN, CH_AI, new_mode == AI);
        let q = nominal_quality(new_mode, s, new_x);
        let floor_price = select(p.c_human, p.ai_floor, new_mode == AI);
        out.price = max(curve_at(ch, q).y, floor_price);
        if (new_mode == AI) {
            out.vol = v_star;
            out.provider = below(w.z, p.n_providers);
        }
    }
    return out;
}

struct DecidedQ {
    d: Decided,
    qvals: vec4<f32>,
    reskill: u32,
}

// Mirrors model::rules::decide_q: the Q-value of the last action moves toward
// profit + q_gamma max Q (on the first call Q(stay) starts at profit / (1 - q_gamma),
// re-skill and adopt at q_init, exit at 0; Q(exit) = q_outside / (1 - q_gamma) when
// q_outside > 0);
// a creator in a re-skilling spell moves skill toward creativity and chooses nothing;
// otherwise an epsilon-greedy action (ties to the lower index): stay, re-skill, adopt AI,
// exit.
fn decide_q(
    s: f32,
    x_in: f32,
    m: u32,
    price: f32,
    v: f32,
    prov: u32,
    qv: vec4<f32>,
    rs: u32,
    profit: f32,
    w: vec4<u32>,
) -> DecidedQ {
    var q = qv;
    var out = Decided(m, x_in, price, v, prov);
    let gamma = p.q_gamma;
    let discount = max(1.0 - gamma, 1e-3);
    // An outside option is a known payoff, not learned: Q(exit) is its discounted value.
    let known_exit = p.q_outside > 0.0;
    let q_exit = select(q.w, p.q_outside / discount, known_exit);
    if ((rs & RESKILL_INIT) == 0u) {
        q = vec4<f32>(profit / discount, p.q_init, p.q_init, select(0.0, q_exit, known_exit));
    } else {
        q.w = q_exit;
        let best = max(max(max(q.x, q.y), q.z), q.w);
        let a = (rs >> RESKILL_ACTION_SHIFT) & 3u;
        if (!(known_exit && a == Q_EXIT)) {
            q[a] += p.q_alpha * (profit + gamma * best - q[a]);
        }
    }
    var left = reskill_left(rs);
    if (left > 0u) {
        left -= 1u;
        out.x = clamp(x_in + p.reskill_delta / f32(max(p.reskill_steps, 1u)), p.x_lo, p.x_hi);
        return DecidedQ(out, q, RESKILL_INIT | (Q_RESKILL << RESKILL_ACTION_SHIFT) | left);
    }
    var action = Q_STAY;
    if (unit_f32(w.x) < p.q_epsilon) {
        action = below(w.y, 4u);
    } else {
        for (var k = 1u; k < 4u; k++) {
            if (q[k] > q[action]) {
                action = k;
            }
        }
    }
    if (action == Q_RESKILL && m != EXIT) {
        left = min(p.reskill_steps, RESKILL_LEFT);
    } else if (action == Q_ADOPT && m != AI) {
        out.mode = AI;
        let q_a = nominal_quality(AI, s, x_in);
        out.price = max(curve_at(CH_AI, q_a).y, p.ai_floor);
        out.vol = p.vol_expect;
        out.provider = below(w.z, p.n_providers);
    } else if (action == Q_EXIT) {
        out.mode = EXIT;
    } else if (action == Q_STAY && p.q_reversible != 0u && m != HUMAN) {
        // With q_reversible, stay is human craft: an AI or exited creator returns to it.
        out.mode = HUMAN;
        let q_h = nominal_quality(HUMAN, s, x_in);
        out.price = max(curve_at(CH_HUMAN, q_h).y, p.c_human);
    }
    return DecidedQ(out, q, RESKILL_INIT | (action << RESKILL_ACTION_SHIFT) | left);
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nc);
    if (g == NONE) {
        return;
    }
    let i = local_id(g, batch.nc);
    let w = draw4(p.key, i, p.step, STREAM_DECIDE, 0u);
    if (p.decision == 1u) {
        // The paper's Q-learning: the reward is this step's profit (CpuBackend::decide).
        let m = mode[g];
        let rs = reskill[g];
        let profit = revenue[g] - cost_with_reskill(m, cap[g], sold[g], rs);
        let r = decide_q(talent[g], x[g], m, offer[g].y, vol[g], provider[g], qvals[g], rs, profit, w);
        mode[g] = r.d.mode;
        x[g] = r.d.x;
        offer[g].y = r.d.price;
        vol[g] = r.d.vol;
        provider[g] = r.d.provider;
        qvals[g] = r.qvals;
        reskill[g] = r.reskill;
        return;
    }
    let r = decide(talent[g], x[g], mode[g], offer[g].y, vol[g], provider[g], w);
    mode[g] = r.mode;
    x[g] = r.x;
    offer[g].y = r.price;
    vol[g] = r.vol;
    provider[g] = r.provider;
}
