//! The step's parameters (`StepParams`, the per-step scalars every rule reads, uploaded to
//! the GPU and declared to WGSL from here: `struct Params` is generated) and the
//! creator modes: the vocabulary the rules share. Lives in `model/` so that the rules need
//! nothing above them; `state` re-exports it for the backends.

use bytemuck::{Pod, Zeroable};

/// Creator modes.
pub const EXIT: u32 = 0;
pub const AI: u32 = 1;
pub const HUMAN: u32 = 2;

/// Declares `StepParams` once: the Rust struct (`#[repr(C)]`, uploaded as bytes) and the
/// WGSL `struct Params` text every stage shader is assembled with
/// ([`StepParams::WGSL`], prepended by `backend::gpu::stage_source`), so the two cannot
/// drift apart; tests/wgsl_layout.rs checks the offsets naga computes for the WGSL against
/// Rust's ([`StepParams::FIELDS`]), which catches a wrong WGSL type for a Rust one.
macro_rules! step_params {
    ($($(#[$m:meta])* $name:ident: $ty:ty => $wgsl:literal,)*) => {
        /// Per-step scalars, uploaded once per stage call (one row per market); the WGSL
        /// `struct Params` is generated from this declaration.
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
        pub struct StepParams {
            $($(#[$m])* pub $name: $ty,)*
        }

        impl StepParams {
            /// The WGSL declaration of `struct Params`, field for field.
            pub const WGSL: &'static str =
                concat!("struct Params {\n", $("    ", stringify!($name), ": ", $wgsl, ",\n",)* "}\n");
            /// Every field's name and byte offset, in declaration order.
            pub const FIELDS: &'static [(&'static str, usize)] =
                &[$((stringify!($name), std::mem::offset_of!(StepParams, $name)),)*];
        }
    };
}

step_params! {
    key: [u32; 2] => "vec2<u32>",
    step: u32 => "u32",
    round: u32 => "u32",
    n_creators: u32 => "u32",
    n_buyers: u32 => "u32",
    n_ai_units: u32 => "u32",
    n_human_units: u32 => "u32",
    perm_key: [u32; 2] => "vec2<u32>",
    k: u32 => "u32",
    bins: u32 => "u32",
    /// Execution weight w_t and 1 / Z(w_t).
    w: f32 => "f32",
    inv_z: f32 => "f32",
    alpha_a: f32 => "f32",
    qbar_a: f32 => "f32",
    x_lo: f32 => "f32",
    x_hi: f32 => "f32",
    c_ai: f32 => "f32",
    f_ai: f32 => "f32",
    api_fee: f32 => "f32",
    c_human: f32 => "f32",
    ai_volume_max: f32 => "f32",
    vol_speed: f32 => "f32",
    junk_share: f32 => "f32",
    sigma: f32 => "f32",
    /// Human share of units h, after curation.
    h_share: f32 => "f32",
    label_accuracy: f32 => "f32",
    search_cost: f32 => "f32",
    congestion: f32 => "f32",
    lam_c: f32 => "f32",
    eps_c: f32 => "f32",
    lam_d: f32 => "f32",
    lam_u: f32 => "f32",
    price_speed: f32 => "f32",
    unit_tax: f32 => "f32",
    adoption_tax: f32 => "f32",
    subsidy: f32 => "f32",
    q_max: f32 => "f32",
    revise: f32 => "f32",
    logit: f32 => "f32",
    eta: f32 => "f32",
    x_grid: u32 => "u32",
    n_providers: u32 => "u32",
    ai_volume_init: f32 => "f32",
    /// 1 if congestion enters the participation score.
    cong_in_u: u32 => "u32",
    /// 1 if any AI units are offered (directedness only moves then).
    ai_present: u32 => "u32",
    decision: u32 => "u32",
    q_alpha: f32 => "f32",
    q_gamma: f32 => "f32",
    q_epsilon: f32 => "f32",
    reskill_steps: u32 => "u32",
    reskill_cost: f32 => "f32",
    reskill_delta: f32 => "f32",
    /// Lowest AI list price, max(api_fee, ai_price_floor): the AI price rule's floor and
    /// an entrant's lowest price.
    ai_floor: f32 => "f32",
    /// AI volume a creator not in AI mode expects to produce if it adopts (v* of MODEL.md
    /// step 6): the host's EMA of the mean volume of AI creators, ai_volume_init before any
    /// existed.
    vol_expect: f32 => "f32",
    /// 1 if the human cost c_H is paid per unit produced rather than sold
    /// (`technology.human_cost_basis = "produced"`).
    human_cost_produced: u32 => "u32",
    /// 1 if Q-learning actions name modes (`decisions.q_reversible`).
    q_reversible: u32 => "u32",
    /// Initial Q-value of re-skill and adopt AI (`decisions.q_init`).
    q_init: f32 => "f32",
    /// Outside option of exit under Q-learning, 0 before the shock (`decisions.q_outside`).
    q_outside: f32 => "f32",
}
