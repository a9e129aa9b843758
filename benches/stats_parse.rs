//! Parse of one bulk stats result for 500 domains: copying libvirt's typed parameters into
//! owned values and decoding them into counter samples (what every poll does per record).
//! The records are built in memory with the same fields libvirt 9 returns for the state,
//! interface, balloon, vcpu and block groups of a VM with one NIC and two disks.
//!
//! `cargo bench --bench stats_parse`

use std::ffi::CString;

use criterion::{criterion_group, criterion_main, Criterion};
use virt::sys;

use novacron::provider::libvirt::poll::decode;
use novacron::provider::libvirt::stats::{copy_params, DomainStatsRecord};

fn param(
    name: &str,
    kind: u32,
    value: sys::_virTypedParameter__bindgen_ty_1,
) -> sys::virTypedParameter {
    let mut field = [0 as std::os::raw::c_char; 80];
    for (d, s) in field.iter_mut().zip(name.bytes()) {
        *d = std::os::raw::c_char::from_ne_bytes([s]);
    }
    #[allow(clippy::cast_possible_wrap)]
    sys::virTypedParameter {
        field,
        type_: kind as i32,
        value,
    }
}

fn ull(name: &str, v: u64) -> sys::virTypedParameter {
    param(
        name,
        sys::VIR_TYPED_PARAM_ULLONG,
        sys::_virTypedParameter__bindgen_ty_1 { ul: v },
    )
}

/// One domain's parameters; `strings` keeps the C strings alive.
fn domain(i: u64, strings: &mut Vec<CString>) -> Vec<sys::virTypedParameter> {
    let mut p = vec![
        param(
            "state.state",
            sys::VIR_TYPED_PARAM_INT,
            sys::_virTypedParameter__bindgen_ty_1 { i: 1 },
        ),
        param(
            "state.reason",
            sys::VIR_TYPED_PARAM_INT,
            sys::_virTypedParameter__bindgen_ty_1 { i: 1 },
        ),
    ];
    for k in [
        "current",
        "maximum",
        "swap_in",
        "swap_out",
        "major_fault",
        "minor_fault",
        "unused",
        "available",
        "usable",
        "last-update",
        "disk_caches",
        "rss",
    ] {
        p.push(ull(&format!("balloon.{k}"), 98_304 + i));
    }
    p.push(param(
        "vcpu.current",
        sys::VIR_TYPED_PARAM_UINT,
        sys::_virTypedParameter__bindgen_ty_1 { ui: 2 },
    ));
    p.push(param(
        "vcpu.maximum",
        sys::VIR_TYPED_PARAM_UINT,
        sys::_virTypedParameter__bindgen_ty_1 { ui: 2 },
    ));
    for v in 0..2 {
        p.push(param(
            &format!("vcpu.{v}.state"),
            sys::VIR_TYPED_PARAM_INT,
            sys::_virTypedParameter__bindgen_ty_1 { i: 1 },
        ));
        p.push(ull(&format!("vcpu.{v}.time"), 1_000_000 * i));
        p.push(ull(&format!("vcpu.{v}.wait"), 0));
    }
    p.push(param(
        "net.count",
        sys::VIR_TYPED_PARAM_UINT,
        sys::_virTypedParameter__bindgen_ty_1 { ui: 1 },
    ));
    strings.push(CString::new(format!("vnet{i}")).unwrap_or_default());
    let s = strings
        .last()
        .map_or(std::ptr::null_mut(), |c| c.as_ptr().cast_mut());
    p.push(param(
        "net.0.name",
        sys::VIR_TYPED_PARAM_STRING,
        sys::_virTypedParameter__bindgen_ty_1 { s },
    ));
    for k in [
        "rx.bytes", "rx.pkts", "rx.errs", "rx.drop", "tx.bytes", "tx.pkts", "tx.errs", "tx.drop",
    ] {
        p.push(ull(&format!("net.0.{k}"), 4096 * i));
    }
    p.push(param(
        "block.count",
        sys::VIR_TYPED_PARAM_UINT,
        sys::_virTypedParameter__bindgen_ty_1 { ui: 2 },
    ));
    for b in 0..2 {
        strings.push(CString::new(format!("vd{}", ['a', 'b'][b])).unwrap_or_default());
        let s = strings
            .last()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr().cast_mut());
        p.push(param(
            &format!("block.{b}.name"),
            sys::VIR_TYPED_PARAM_STRING,
            sys::_virTypedParameter__bindgen_ty_1 { s },
        ));
        for k in [
            "rd.reqs",
            "rd.bytes",
            "rd.times",
            "wr.reqs",
            "wr.bytes",
            "wr.times",
            "fl.reqs",
            "fl.times",
            "allocation",
            "capacity",
            "physical",
        ] {
            p.push(ull(&format!("block.{b}.{k}"), 512 * i));
        }
    }
    p
}

fn bench(c: &mut Criterion) {
    let mut strings = Vec::new();
    let domains: Vec<Vec<sys::virTypedParameter>> =
        (0..500).map(|i| domain(i, &mut strings)).collect();
    let per = domains[0].len();
    c.bench_function(
        &format!("parse bulk stats: 500 domains x {per} params (copy + decode)"),
        |b| {
            b.iter(|| {
                domains
                    .iter()
                    .map(|d| {
                        // SAFETY: `d` holds `d.len()` initialised parameters whose strings live in `strings`.
                        let params = unsafe { copy_params(d.as_ptr(), d.len()) };
                        let rec = DomainStatsRecord {
                            uuid: String::new(),
                            name: String::new(),
                            params,
                        };
                        decode(&rec)
                    })
                    .collect::<Vec<_>>()
            });
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
