//! The WGSL side of the GPU backend checked on the CPU (no adapter needed): every stage's
//! assembled source parses and validates with naga, and the structs the host uploads
//! (`StepParams`, the ensemble `Batch`, the scan `Level`, the reduce layout, the unit
//! record) have the same size and member offsets in WGSL as in Rust, and every kernel's
//! group-0 bindings (bindings::KERNELS, by which the host builds its bind groups) carry the
//! WGSL globals of those names.

use hollow::backend::gpu::{
    self, Access, BatchLayout, KERNELS, Level, ReduceLayout, UnitRecord, shaders, stage_source, units_prelude,
};
use hollow::state::StepParams;
use std::mem::{offset_of, size_of};
use wgpu::naga;

fn parse(src: &str, what: &str) -> naga::Module {
    naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)))
}

fn validate(m: &naga::Module, src: &str, what: &str) -> naga::valid::ModuleInfo {
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default());
    v.validate(m).unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)))
}

/// (span, [(member name, offset)]) of the WGSL struct `name`.
fn wgsl_struct(m: &naga::Module, name: &str) -> (u32, Vec<(String, u32)>) {
    let mut lay = naga::proc::Layouter::default();
    lay.update(m.to_ctx()).expect("layout");
    for (_, ty) in m.types.iter() {
        if ty.name.as_deref() == Some(name) {
            if let naga::TypeInner::Struct { members, span } = &ty.inner {
                return (*span, members.iter().map(|mb| (mb.name.clone().unwrap_or_default(), mb.offset)).collect());
            }
        }
    }
    panic!("no struct {name}");
}

fn check(wgsl: (u32, Vec<(String, u32)>), rust: &[(&str, usize)], size: usize, what: &str) {
    assert_eq!(wgsl.0 as usize, size, "{what}: WGSL size {} vs Rust size {size}", wgsl.0);
    let names: Vec<&str> = wgsl.1.iter().map(|(n, _)| n.as_str()).collect();
    let rnames: Vec<&str> = rust.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, rnames, "{what}: member names and order");
    for ((n, o), (_, ro)) in wgsl.1.iter().zip(rust) {
        assert_eq!(*o as usize, *ro, "{what}.{n}: WGSL offset {o} vs Rust {ro}");
    }
}

macro_rules! offsets {
    ($t:ty; $($f:ident),* $(,)?) => { vec![$((stringify!($f), offset_of!($t, $f))),*] };
}

#[test]
fn params_struct_matches_step_params_field_for_field() {
    // `struct Params` is generated from StepParams (model/params.rs); naga's layout of the
    // generated text must be Rust's, field for field (a wrong WGSL type moves offsets).
    let m = parse(&format!("{}{}", StepParams::WGSL, shaders::COMMON), "common.wgsl");
    let rust = StepParams::FIELDS.to_vec();
    check(wgsl_struct(&m, "Params"), &rust, size_of::<StepParams>(), "Params");
    // The host writes one row per market back to back: the WGSL array stride (the
    // struct's span, checked above) must be the Rust size, kept a multiple of 16.
    assert_eq!(size_of::<StepParams>() % 16, 0);
    let rust = offsets!(BatchLayout; n_markets, nc, nb, unit_stride);
    check(wgsl_struct(&m, "Batch"), &rust, size_of::<BatchLayout>(), "Batch");
}

#[test]
fn unit_record_matches_its_wgsl_struct_in_sixteen_bytes() {
    // The host downloads the chunks as UnitRecords (units()): the WGSL array stride (the
    // struct's span) must be the Rust size, and a search sample's record one 16-byte slot.
    let m = parse(&format!("{}{}", StepParams::WGSL, shaders::COMMON), "common.wgsl");
    let rust = offsets!(UnitRecord; owner, claim, q, price);
    check(wgsl_struct(&m, "Unit"), &rust, size_of::<UnitRecord>(), "Unit");
    check(wgsl_struct(&m, "UnitView"), &rust, size_of::<UnitRecord>(), "UnitView");
    assert_eq!(size_of::<UnitRecord>(), 16);
    assert_eq!(gpu::UNIT_BYTES, 16);
    // The chunks are arrays of it, and search reads nothing else of a unit.
    let p = units_prelude(3, 12);
    assert!(p.contains("units_2: array<Unit>") && !p.contains("owner_0"), "{p}");
    let search = stage_source(shaders::SEARCH, Some((3, 12)));
    assert!(search.contains("unit_view(unit)") && !search.contains("offer["), "search reads the unit record only");
}

#[test]
fn scan_level_and_reduce_layout_match_their_wgsl_structs() {
    let src = stage_source(shaders::SCAN, Some((1, 20)));
    let m = parse(&src, "scan.wgsl");
    let rust = offsets!(Level; n_in, in_off, out_off, from_creators);
    check(wgsl_struct(&m, "Level"), &rust, size_of::<Level>(), "Level");

    let src = stage_source(shaders::REDUCE, None);
    let m = parse(&src, "reduce.wgsl");
    let (span, members) = wgsl_struct(&m, "Red");
    assert_eq!(span as usize, size_of::<ReduceLayout>(), "Red size");
    let rust = offsets!(ReduceLayout;
        tiles_per_group_b, tiles_per_group_c, ncell, off_bf, off_bu, off_cf, off_cu, off_hu, off_hf,
        groups_b, groups_c);
    for (n, o) in &rust {
        let w = members.iter().find(|(m, _)| m == n).unwrap_or_else(|| panic!("Red has no {n}"));
        assert_eq!(w.1 as usize, *o, "Red.{n}");
    }
}

#[test]
fn every_stage_shader_parses_and_validates() {
    for (name, src, units) in shaders::STAGES {
        // One chunk and several chunks generate different accessors; both must compile.
        for chunks in [1u32, 3] {
            let full = stage_source(src, units.then_some((chunks, 12)));
            let m = parse(&full, name);
            validate(&m, &full, name);
            if !units {
                break;
            }
        }
    }
    let p = units_prelude(5, 20);
    assert!(p.contains("units_4") && p.contains("case 4u"));
}

#[test]
fn bytes_per_agent_are_as_documented() {
    // docs/gpu.md: 64 bytes per creator plus 16 per unit slot, 44 per buyer.
    assert_eq!(gpu::bytes_per_creator(64), 64 + 16 * 64);
    assert_eq!(hollow::state::Units::BYTES_PER_UNIT, 16);
    assert_eq!(gpu::bytes_per_buyer(), 44);
}

/// How the WGSL declares a buffer, in the host's terms (None for non-buffer spaces).
fn wgsl_access(space: naga::AddressSpace) -> Option<Access> {
    match space {
        naga::AddressSpace::Uniform => Some(Access::Uniform),
        naga::AddressSpace::Storage { access } if access.contains(naga::StorageAccess::STORE) => Some(Access::Write),
        naga::AddressSpace::Storage { .. } => Some(Access::Read),
        _ => None,
    }
}

#[test]
fn every_kernel_binds_its_wgsl_globals_by_name_number_and_access() {
    // Two bindings of the same type swapped in the table would still build and run, on
    // the wrong buffers; only the names tie a number to a buffer.
    let mut names: Vec<&str> = KERNELS.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KERNELS.len(), "kernel names must be unique");
    for k in KERNELS {
        let what = format!("kernel {} ({}.wgsl, entry {})", k.name, k.stage.name(), k.entry);
        let src = k.module_source((2, 12));
        let m = parse(&src, &what);
        let info = validate(&m, &src, &what);
        let ep = m
            .entry_points
            .iter()
            .position(|e| e.name == k.entry)
            .unwrap_or_else(|| panic!("{what}: no entry point {}", k.entry));
        let uses = info.get_entry_point(ep);
        let group0: Vec<_> = m
            .global_variables
            .iter()
            .filter_map(|(h, g)| g.binding.as_ref().filter(|b| b.group == 0).map(|b| (h, b.binding, g)))
            .collect();
        let table: Vec<_> = k.all_bindings().collect();
        let mut slots: Vec<u32> = table.iter().map(|b| b.slot).collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), table.len(), "{what}: a binding number is declared twice");
        assert!(table.iter().any(|b| b.slot == 31 && b.name == "batch"), "{what}: the ensemble layout at 31");
        for b in &table {
            let (_, _, g) = group0.iter().find(|(_, slot, _)| *slot == b.slot).unwrap_or_else(|| {
                panic!("{what}: the table binds {} at {}, the WGSL declares nothing there", b.name, b.slot)
            });
            let wname = g.name.as_deref().unwrap_or("<unnamed>");
            assert_eq!(wname, b.name, "{what}: binding {} is {wname} in the WGSL, {} in the table", b.slot, b.name);
            assert_eq!(
                wgsl_access(g.space),
                Some(b.access),
                "{what}: {} at {} ({:?} in the WGSL)",
                b.name,
                b.slot,
                g.space
            );
        }
        // The module may declare bindings another entry point uses (reduce.wgsl serves
        // two kernels); every one this entry point touches must be in its layout.
        for (h, slot, g) in &group0 {
            if uses[*h].is_empty() {
                continue;
            }
            assert!(
                table.iter().any(|b| b.slot == *slot),
                "{what}: uses {} at binding {slot}, which the table does not bind",
                g.name.as_deref().unwrap_or("<unnamed>")
            );
        }
    }
    // Every stage file has at least one kernel, so no shader is left out of this check.
    for (name, _, _) in shaders::STAGES {
        assert!(KERNELS.iter().any(|k| k.stage.name() == name), "no kernel of stage {name}");
    }
}

/// The value of a named WGSL constant, if it is a literal.
fn wgsl_const(m: &naga::Module, name: &str) -> Option<f64> {
    let (_, c) = m.constants.iter().find(|(_, c)| c.name.as_deref() == Some(name))?;
    match m.global_expressions[c.init] {
        naga::Expression::Literal(l) => Some(match l {
            naga::Literal::U32(v) => v as f64,
            naga::Literal::I32(v) => v as f64,
            naga::Literal::F32(v) => v as f64,
            naga::Literal::AbstractInt(v) => v as f64,
            naga::Literal::AbstractFloat(v) => v,
            other => panic!("{name}: unexpected literal {other:?}"),
        }),
        ref e => panic!("{name}: not a literal in WGSL: {e:?}"),
    }
}

#[test]
fn every_mirrored_constant_has_its_rust_value_in_the_wgsl() {
    let modules: Vec<(&str, naga::Module)> = shaders::STAGES
        .iter()
        .map(|(name, src, units)| (*name, parse(&stage_source(src, units.then_some((2, 20))), name)))
        .collect();
    let consts = gpu::mirrored_constants();
    assert!(consts.len() >= 20, "the list of mirrored constants is suspiciously short");
    for (name, rust) in consts {
        let found: Vec<(&str, f64)> =
            modules.iter().filter_map(|(stage, m)| wgsl_const(m, name).map(|v| (*stage, v))).collect();
        assert!(!found.is_empty(), "{name} is declared in no stage's WGSL");
        for (stage, v) in found {
            assert_eq!(v, rust, "{name} in {stage}.wgsl is {v}, in Rust {rust}");
        }
    }
}
