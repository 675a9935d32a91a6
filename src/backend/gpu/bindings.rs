//! What every kernel of the step binds in group 0, by WGSL variable name: one declarative
//! table ([`KERNELS`]) that `Pipelines::build` turns into bind group layouts and bind
//! groups (each name resolved by `Buffers::by_name`), and that tests/wgsl_layout.rs checks
//! against the stage's WGSL with naga, binding number by binding number. Needs no device.
//! The unit chunks of group 1 are generated per run (`units_prelude`) and are not here.

use super::pipelines::{shaders, stage_source};
use crate::backend::Stage;

/// How a kernel binds a buffer; must be the WGSL declaration's address space and access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    Write,
}

/// One group-0 binding: its number, the WGSL global it must carry, how it is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub slot: u32,
    pub name: &'static str,
    pub access: Access,
}

const fn uniform(slot: u32, name: &'static str) -> Binding {
    Binding { slot, name, access: Access::Uniform }
}
const fn read(slot: u32, name: &'static str) -> Binding {
    Binding { slot, name, access: Access::Read }
}
const fn write(slot: u32, name: &'static str) -> Binding {
    Binding { slot, name, access: Access::Write }
}

/// Bound in every kernel, as declared in common.wgsl: the per-market step parameters and
/// the ensemble layout.
pub const SHARED: [Binding; 2] = [read(0, "params"), uniform(31, "batch")];

/// One kernel: an entry point of a stage's module and what it binds.
#[derive(Clone, Copy, Debug)]
pub struct KernelDecl {
    /// Unique; the pipeline's label and its field in `Pipelines`.
    pub name: &'static str,
    /// The stage whose WGSL file holds it (several kernels share one module).
    pub stage: Stage,
    pub entry: &'static str,
    /// Group-0 bindings besides [`SHARED`].
    pub bindings: &'static [Binding],
    /// Whether it binds the unit chunks as group 1.
    pub units: bool,
    /// One bind group per scan level (`lv` is that level's uniform) instead of one.
    pub per_level: bool,
}

impl KernelDecl {
    /// Every group-0 binding: [`SHARED`] and the kernel's own.
    pub fn all_bindings(&self) -> impl Iterator<Item = Binding> + '_ {
        SHARED.iter().chain(self.bindings).copied()
    }

    /// The assembled WGSL of the kernel's module for `chunks` (unit chunks, chunk shift):
    /// the module of a stage carries the unit accessors when any of its kernels binds the
    /// units, since all its kernels share one compiled module.
    pub fn module_source(&self, chunks: (u32, u32)) -> String {
        let units = KERNELS.iter().any(|k| k.stage == self.stage && k.units);
        stage_source(shaders::source(self.stage), units.then_some(chunks))
    }
}

const SCAN: &[Binding] =
    &[uniform(1, "lv"), read(2, "mode"), read(3, "cap"), write(4, "offset"), write(5, "aux"), write(6, "totals")];
/// `scan_fill` also copies each creator's offer into its unit records.
const SCAN_FILL: &[Binding] = &[
    uniform(1, "lv"),
    read(2, "mode"),
    read(3, "cap"),
    write(4, "offset"),
    write(5, "aux"),
    write(6, "totals"),
    read(7, "offer"),
];

/// Every kernel of the step, in stage order.
pub const KERNELS: &[KernelDecl] = &[
    KernelDecl {
        name: "offers",
        stage: Stage::Offers,
        entry: "main",
        bindings: &[
            read(1, "mode"),
            read(2, "talent"),
            read(3, "x"),
            read(4, "vol"),
            write(5, "offer"),
            write(6, "cap"),
            write(7, "sold"),
            read(8, "reskill"),
        ],
        units: false,
        per_level: false,
    },
    KernelDecl { name: "scan_up", stage: Stage::Scan, entry: "scan_up", bindings: SCAN, units: false, per_level: true },
    KernelDecl {
        name: "scan_top",
        stage: Stage::Scan,
        entry: "scan_top",
        bindings: SCAN,
        units: false,
        per_level: true,
    },
    KernelDecl {
        name: "scan_down",
        stage: Stage::Scan,
        entry: "scan_down",
        bindings: SCAN,
        units: false,
        per_level: true,
    },
    KernelDecl {
        name: "scan_down0",
        stage: Stage::Scan,
        entry: "scan_down0",
        bindings: SCAN,
        units: false,
        per_level: true,
    },
    KernelDecl {
        name: "scan_fill",
        stage: Stage::Scan,
        entry: "scan_fill",
        bindings: SCAN_FILL,
        units: true,
        per_level: false,
    },
    KernelDecl {
        name: "scan_seg",
        stage: Stage::Scan,
        entry: "scan_seg",
        bindings: SCAN,
        units: false,
        per_level: false,
    },
    KernelDecl {
        name: "search",
        stage: Stage::Search,
        entry: "main",
        bindings: &[
            read(1, "active_flag"),
            read(2, "theta"),
            read(3, "d"),
            write(4, "proposal"),
            write(5, "bought"),
            write(6, "searches"),
        ],
        units: true,
        per_level: false,
    },
    KernelDecl {
        name: "resolve",
        stage: Stage::Resolve,
        entry: "main",
        bindings: &[write(1, "proposal"), write(2, "bought"), write(3, "sold")],
        units: true,
        per_level: false,
    },
    KernelDecl {
        name: "buyers",
        stage: Stage::Buyers,
        entry: "main",
        bindings: &[
            read(1, "offer"),
            read(2, "theta"),
            read(3, "searches"),
            read(4, "bought"),
            write(5, "util"),
            write(6, "active_flag"),
            write(7, "experience"),
            write(8, "d"),
            write(9, "gain"),
        ],
        units: false,
        per_level: false,
    },
    KernelDecl {
        name: "accounts",
        stage: Stage::Accounts,
        entry: "main",
        bindings: &[
            read(1, "mode"),
            read(2, "cap"),
            read(3, "sold"),
            write(4, "revenue"),
            write(5, "offer"),
            write(6, "vol"),
        ],
        units: false,
        per_level: false,
    },
    KernelDecl {
        name: "reduce_buyers",
        stage: Stage::Reduce,
        entry: "reduce_buyers",
        bindings: &[
            uniform(1, "rd"),
            read(3, "searches"),
            read(4, "gain"),
            read(5, "d"),
            read(6, "bought"),
            write(16, "part"),
        ],
        units: false,
        per_level: false,
    },
    KernelDecl {
        name: "reduce_creators",
        stage: Stage::Reduce,
        entry: "reduce_creators",
        bindings: &[
            uniform(1, "rd"),
            read(2, "deciles"),
            read(7, "mode"),
            read(8, "talent"),
            read(9, "x"),
            read(10, "cap"),
            read(11, "sold"),
            read(12, "offer"),
            read(13, "revenue"),
            read(14, "vol"),
            read(15, "provider"),
            write(16, "part"),
            read(17, "reskill"),
        ],
        units: false,
        per_level: false,
    },
    KernelDecl {
        name: "decide",
        stage: Stage::Decide,
        entry: "main",
        bindings: &[
            read(1, "curves"),
            read(2, "grid"),
            read(3, "talent"),
            write(4, "mode"),
            write(5, "x"),
            write(6, "offer"),
            write(7, "vol"),
            write(8, "provider"),
            write(9, "qvals"),
            write(10, "reskill"),
            read(11, "revenue"),
            read(12, "cap"),
            read(13, "sold"),
        ],
        units: false,
        per_level: false,
    },
];
